#!/usr/bin/env node
console.log('ao-console');
