// Compiles config/pipeline.schema.json with ajv into lib/pipeline/schema-validator.ts, so `pipe`
// validates pipeline.yaml with ajv's code without importing ajv and compiling the schema on every
// run (bench/schema-validator.ts: 127 ms median with ajv at run time against 7 ms, on this machine).
// Run: npm run generate:schema. test/pipeline-file.test.ts fails when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';

const schemaPath = fileURLToPath(new URL('../config/pipeline.schema.json', import.meta.url));
export const validatorPath = fileURLToPath(
  new URL('../lib/pipeline/schema-validator.ts', import.meta.url),
);

export function validatorSource(): string {
  // unicode: false counts string length in UTF-16 units: the schema only asks for "not empty", and
  // the default (code points) would make the generated ESM code require() an ajv runtime helper.
  // ajv logs that this option is deprecated; logger: false keeps that note out of test output
  // (strict mode still throws on any real schema problem).
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    unicode: false,
    logger: false,
    code: { source: true, esm: true },
  });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);
  const code = standalone.default(ajv, validate);
  return [
    '// @ts-nocheck',
    '// GENERATED from config/pipeline.schema.json by scripts/generate-schema-validator.ts (ajv',
    '// standalone code). Do not edit: change the schema and run `npm run generate:schema`.',
    code.replace(/^"use strict";/, ''),
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(validatorPath, validatorSource());
  process.stdout.write(`wrote ${validatorPath}\n`);
}
