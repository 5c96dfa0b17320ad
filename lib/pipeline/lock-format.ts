// The shape of pipeline.lock as docs/lock-file.md documents it, checked without reading or writing
// anything: the tool's reader (build/lockfile.ts) and the stage API's fingerprint reader
// (stage-api/lock-fingerprints.ts) refuse the same files with the same words. A leaf of pure
// checks, so a stage that reads the lock does not pull the lock writer into its code deps.

/** The lock file's format. A newer file is refused (written by a newer pipe), never guessed at. */
export const LOCK_VERSION = 1;
export const LOCK_FILE = 'pipeline.lock';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SHA = /^[0-9a-f]{64}$/;

function pathProblem(where: string, v: unknown): string | undefined {
  if (
    !isObject(v) ||
    typeof v.sha256 !== 'string' ||
    !SHA.test(v.sha256) ||
    typeof v.size !== 'number'
  ) {
    return `${where} must be {sha256, size[, files]}`;
  }
  if (v.files !== undefined && typeof v.files !== 'number')
    return `${where}.files must be a number`;
  return undefined;
}

/** The first structural problem of a parsed lock file, or undefined when it is well formed. */
export function lockProblem(data: unknown): string | undefined {
  if (!isObject(data)) return 'the top level must be an object';
  if (data.version !== LOCK_VERSION) {
    return typeof data.version === 'number' && data.version > LOCK_VERSION
      ? `format version ${data.version} was written by a newer pipe (this one reads ${LOCK_VERSION}); upgrade pipe`
      : `unknown format version ${JSON.stringify(data.version)}`;
  }
  if (!isObject(data.stages)) return '"stages" must be an object';
  for (const [name, entry] of Object.entries(data.stages)) {
    const at = `stages.${name}`;
    if (!isObject(entry)) return `${at} must be an object`;
    if (typeof entry.fingerprint !== 'string' || !SHA.test(entry.fingerprint))
      return `${at}.fingerprint must be a sha256`;
    for (const field of ['cmd', 'deps', 'params', 'env', 'outs'] as const) {
      if (!isObject(entry[field])) return `${at}.${field} must be an object`;
    }
    if (entry.packages !== undefined) {
      if (!isObject(entry.packages)) return `${at}.packages must be an object`;
      for (const [name, v] of Object.entries(entry.packages)) {
        if (v !== null && typeof v !== 'string')
          return `${at}.packages[${JSON.stringify(name)}] must be a version string or null`;
      }
    }
    for (const [p, v] of Object.entries(entry.deps as object)) {
      const bad = pathProblem(`${at}.deps[${JSON.stringify(p)}]`, v);
      if (bad !== undefined) return bad;
    }
    for (const [p, v] of Object.entries(entry.outs as object)) {
      const bad = pathProblem(`${at}.outs[${JSON.stringify(p)}]`, v);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}
