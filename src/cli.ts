#!/usr/bin/env node
/**
 * The `ao-console` bin entry. It draws the dashboard's first frame straight away (before Ink,
 * the engine and the command modules load: src/splash.ts), then loads the command line.
 */
import { drawSplash } from './splash.js';

// On a terminal the console is interactive even when CI is set: Ink would otherwise draw nothing
// live (it expects a log in CI). Agents and gates never see this: their environment is an allowlist.
if (process.stdout.isTTY) {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
}
// React and Ink run their production builds unless the operator asks otherwise: the development
// builds' checks cost most of an idle dashboard's CPU (issue "cheaper per lane than tmux").
process.env.NODE_ENV ??= 'production';
const splash = drawSplash();
const { main } = await import('./main.js');
await main({ splash });
