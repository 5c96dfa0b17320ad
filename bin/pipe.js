#!/usr/bin/env node
// The installed entry point. The CLI is compiled to dist/ by `npm ci` (the `prepare` script),
// so starting it costs no TypeScript transform.
import { main } from '../dist/lib/cli.js';

process.exitCode = await main(process.argv.slice(2));
