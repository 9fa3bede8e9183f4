#!/usr/bin/env node
/**
 * The `ao-console` bin entry. It draws the dashboard's first frame straight away (before Ink,
 * the engine and the command modules load: src/splash.ts), then loads the command line.
 */
import { drawSplash } from './splash.js';

const splash = drawSplash();
const { main } = await import('./main.js');
await main({ splash });
