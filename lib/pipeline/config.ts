// Configuration values by precedence: command-line flag > process environment >
// config/.env.local (git-ignored) > config/.env.base (committed defaults). See README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

export type ConfigSource = 'flag' | 'environment' | '.env.local' | '.env.base' | 'default';

export interface ConfigValue {
  readonly value: string;
  readonly source: ConfigSource;
}

/**
 * Parses a .env file by Node's own rules (util.parseEnv, dotenv's): `# comments` at a line's end
 * are dropped unless quoted, `export KEY=...` lines count, quotes and multi-line values work.
 */
export function parseDotenv(text: string): Map<string, string> {
  return new Map(
    Object.entries(parseEnv(text)).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

function readDotenv(path: string): Map<string, string> {
  try {
    return parseDotenv(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
}

export class Config {
  readonly #base: Map<string, string>;
  readonly #local: Map<string, string>;
  readonly #env: NodeJS.ProcessEnv;

  constructor(workspace: string, env: NodeJS.ProcessEnv = process.env) {
    this.#base = readDotenv(join(workspace, 'config', '.env.base'));
    this.#local = readDotenv(join(workspace, 'config', '.env.local'));
    this.#env = env;
  }

  /** The value of `key`, or undefined when no layer sets it. A flag value wins over all. */
  get(key: string, flag?: string): ConfigValue | undefined {
    if (flag !== undefined) return { value: flag, source: 'flag' };
    const fromEnv = this.#env[key];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: 'environment' };
    const local = this.#local.get(key);
    if (local !== undefined) return { value: local, source: '.env.local' };
    const base = this.#base.get(key);
    if (base !== undefined) return { value: base, source: '.env.base' };
    return undefined;
  }

  /** Every key set by a file layer, resolved through all layers: what a stage process inherits. */
  resolvedFileKeys(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const key of new Set([...this.#base.keys(), ...this.#local.keys()])) {
      const v = this.get(key);
      if (v !== undefined) out[key] = v.value;
    }
    return out;
  }
}
