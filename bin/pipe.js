#!/usr/bin/env node
// The installed entry point. The CLI is compiled to dist/ by `npm ci` (the `prepare` script),
// so starting it costs no TypeScript transform.
import { main } from '../dist/lib/cli.js';

// When the reader goes away (`pipe status | head`), drop further output instead of dying on an
// unhandled EPIPE with a stack trace: a build keeps going to a consistent end (outputs moved into
// place, lock written, build mutex released) rather than stopping halfway through a stage.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = () => true;
  });
}

process.exitCode = await main(process.argv.slice(2));
