// Compiles config/pipeline.schema.json with ajv into lib/pipeline/schema-validator.ts, so `pipe`
// validates pipeline.yaml with ajv's code without importing ajv and compiling the schema on every
// run (bench/schema-validator.ts: 127 ms median with ajv at run time against 7 ms, on this machine).
// Run: npm run generate:schema. test/pipeline-file.test.ts fails when the committed file is stale.
import { createHash } from 'node:crypto';
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

const uploadSchemaPath = fileURLToPath(new URL('../config/upload.schema.json', import.meta.url));
export const uploadValidatorPath = fileURLToPath(
  new URL('../stages/shared/upload-schema-validator.ts', import.meta.url),
);

/** How ajv's standalone ESM code loads its one runtime helper (it writes a require). */
const UCS2LENGTH_REQUIRE = 'require("ajv/dist/runtime/ucs2length").default';

/**
 * config/upload.schema.json compiled by ajv exactly as clean compiles it (stages/shared/
 * webapp-files.ts uploadChecker: the same options), as a module clean imports instead of
 * compiling the schema on each run that reads a web-app upload (~50 ms of a one-upload build). It
 * names the schema it was made from by the sha256 of its JSON text (uploadSchemaDigest): clean
 * compiles any other schema itself. TypeScript, not .cjs: a stage whose code includes a .cjs file
 * runs under tsx (lib/build/compiled-stage.ts), ~0.2 s more per run.
 */
export function uploadValidatorSource(): string {
  const schema = JSON.parse(readFileSync(uploadSchemaPath, 'utf8')) as object;
  const ajv = new Ajv({ allErrors: false, strict: false, code: { source: true, esm: true } });
  const code = standalone.default(ajv, ajv.compile(schema));
  const body = code.replace(/^"use strict";/, '');
  // ESM has no require: the helper (string length in code points, as ajv counts by default) is
  // imported instead. A helper the code names otherwise fails the build of this file.
  if ((body.match(/require\(/g) ?? []).length !== body.split(UCS2LENGTH_REQUIRE).length - 1)
    throw new Error('ajv standalone code requires a module the generator does not import');
  return [
    '// @ts-nocheck',
    '// GENERATED from config/upload.schema.json by scripts/generate-schema-validator.ts (ajv',
    '// standalone code, the options of stages/shared/webapp-files.ts). Do not edit: change the',
    '// schema and run `npm run generate:schema`.',
    "import ucs2module from 'ajv/dist/runtime/ucs2length.js';",
    '// node gives a CommonJS module its exports object; bundlers may give its `default` export.',
    "const ucs2length = typeof ucs2module === 'function' ? ucs2module : ucs2module.default;",
    body.replaceAll(UCS2LENGTH_REQUIRE, 'ucs2length'),
    `export const schemaDigest = ${JSON.stringify(uploadSchemaDigest(schema))};`,
    '',
  ].join('\n');
}

/** What a compiled upload validator names its schema by: sha256 of the schema's JSON text. */
export function uploadSchemaDigest(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(validatorPath, validatorSource());
  process.stdout.write(`wrote ${validatorPath}\n`);
  writeFileSync(uploadValidatorPath, uploadValidatorSource());
  process.stdout.write(`wrote ${uploadValidatorPath}\n`);
}
