// The benchmark's input: at least N keystrokes of generated typing, written once in BOTH upload
// formats from the same users (samples/generate.ts's per-user generator, no faults), so the web-app
// and Aalto runs type exactly the same text with the same timing. Users are generated one at a
// time and written at once, so memory stays flat at any N.
//
//   <dir>/webapp/<session>.session.json   one web-app upload per session (15 sessions per user)
//   <dir>/aalto/<participant>_keystrokes.txt   one Aalto 136M file per user
//   <dir>/SET.json                         what was generated; its presence means "complete"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toAaltoFiles, userUploads } from '../../samples/generate.js';

export interface GeneratedSet {
  readonly seed: number;
  /** Keystrokes asked for; the set has at least this many (whole users only). */
  readonly requested: number;
  readonly keystrokes: number;
  readonly users: number;
  readonly sessions: number;
  readonly webappFiles: number;
  readonly aaltoFiles: number;
  readonly seconds: number;
}

const SESSIONS_PER_USER = 15;

/** Reuses a complete set in `dir` made with the same seed and N; otherwise writes a new one. */
export function ensureSet(dir: string, requested: number, seed: number): GeneratedSet {
  const marker = join(dir, 'SET.json');
  if (existsSync(marker)) {
    const found = JSON.parse(readFileSync(marker, 'utf8')) as GeneratedSet;
    if (found.requested === requested && found.seed === seed) return found;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'webapp'), { recursive: true });
  mkdirSync(join(dir, 'aalto'), { recursive: true });
  const started = performance.now();
  const options = {
    seed,
    users: Number.MAX_SAFE_INTEGER,
    sessionsPerUser: SESSIONS_PER_USER,
    faults: false,
  };
  let keystrokes = 0;
  let users = 0;
  let sessions = 0;
  let aaltoFiles = 0;
  while (keystrokes < requested) {
    const uploads = userUploads(options, users);
    for (const upload of uploads) {
      // Every keydown of a fault-free session has its keyup: one keystroke each.
      keystrokes += upload.events.reduce((n, e) => n + (e.type === 'down' ? 1 : 0), 0);
      writeFileSync(
        join(dir, 'webapp', `${upload.session_id}.session.json`),
        JSON.stringify(upload),
      );
    }
    for (const [name, text] of toAaltoFiles(uploads)) {
      writeFileSync(join(dir, 'aalto', name), text);
      aaltoFiles++;
    }
    sessions += uploads.length;
    users++;
  }
  const set: GeneratedSet = {
    seed,
    requested,
    keystrokes,
    users,
    sessions,
    webappFiles: sessions,
    aaltoFiles,
    seconds: (performance.now() - started) / 1000,
  };
  writeFileSync(marker, `${JSON.stringify(set, null, 2)}\n`);
  return set;
}

/**
 * Aalto files only, for sizes where the web-app copy would be millions of files nobody reads:
 * `participants` files of `sessions` sessions each (the 136M data set: 168,000 files; at 20
 * sessions the generator's typing gives ~830 keystrokes per participant, ~139M in all).
 *   <dir>/aalto/<participant>_keystrokes.txt, <dir>/SET.json
 */
export function ensureAaltoSet(
  dir: string,
  participants: number,
  sessions: number,
  seed: number,
): GeneratedSet {
  const marker = join(dir, 'SET.json');
  if (existsSync(marker)) {
    const found = JSON.parse(readFileSync(marker, 'utf8')) as GeneratedSet;
    if (
      found.users === participants &&
      found.seed === seed &&
      found.sessions === participants * sessions
    )
      return found;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'aalto'), { recursive: true });
  const started = performance.now();
  const options = { seed, users: participants, sessionsPerUser: sessions, faults: false };
  let keystrokes = 0;
  for (let u = 0; u < participants; u++) {
    const uploads = userUploads(options, u);
    for (const upload of uploads)
      keystrokes += upload.events.reduce((n, e) => n + (e.type === 'down' ? 1 : 0), 0);
    for (const [name, text] of toAaltoFiles(uploads)) writeFileSync(join(dir, 'aalto', name), text);
  }
  const set: GeneratedSet = {
    seed,
    requested: keystrokes,
    keystrokes,
    users: participants,
    sessions: participants * sessions,
    webappFiles: 0,
    aaltoFiles: participants,
    seconds: (performance.now() - started) / 1000,
  };
  writeFileSync(marker, `${JSON.stringify(set, null, 2)}\n`);
  return set;
}
