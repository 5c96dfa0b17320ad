// Seeded, rerunnable generator of realistic web-app typing sessions (one JSON upload per session,
// described by config/upload.schema.json), with faults planted in KNOWN numbers written to
// PLANTED.json so tests can prove each cleaning rule catches exactly what was planted.
//
//   npx tsx samples/generate.ts                      # the committed sample set (seed 2018)
//   npx tsx samples/generate.ts --users 2000 --sessions 15 --no-faults --out bench/work/uploads
//   npx tsx samples/generate.ts --format aalto ...   # same typing as Aalto 136M rows, one file per user
//
// Same seed and options give byte-identical files.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { SENTENCES } from './sentences.js';
import { drawRhythm, seededRandom, typeText } from './typing.js';
import { plantFaults, toEvents, type Planted, type Upload } from './faults.js';

export interface GenerateOptions {
  readonly seed: number;
  readonly users: number;
  readonly sessionsPerUser: number;
  readonly faults: boolean;
}

export interface Generated {
  /** File name (relative to the output folder) -> content (bytes for .gz). */
  readonly files: Map<string, string | Buffer>;
  readonly planted: Planted | undefined;
}

const USER_AGENTS = {
  desktop:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  mobile:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
} as const;

function hex(random: () => number, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** One user's clean sessions (no faults): reproducible from (seed, user index) alone. */
export function userUploads(options: GenerateOptions, u: number): Upload[] {
  const uploads: Upload[] = [];
  const random = seededRandom(options.seed * 7919 + u);
  const rhythm = drawRhythm(random);
  const device = random() < 0.2 ? 'mobile' : 'desktop';
  const userId = `user-${String(u + 1).padStart(4, '0')}`;
  let origin = 1_730_000_000_000 + u * 86_400_000 + Math.floor(random() * 3_600_000);
  for (let s = 0; s < options.sessionsPerUser; s++) {
    const prompt = SENTENCES[Math.floor(random() * SENTENCES.length)] ?? SENTENCES[0]!;
    const timeOrigin = origin + Math.round(random() * 1000) / 1000;
    const strokes = typeText(prompt, rhythm, random, 800 + random() * 400);
    uploads.push({
      session_id: `${hex(random, 8)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 12)}`,
      user_id: userId,
      prompt,
      text: prompt,
      client: { user_agent: USER_AGENTS[device], device, keyboard_layout: 'en-US' },
      time_origin: timeOrigin,
      events: toEvents(strokes),
    });
    origin += 60_000 + Math.floor(random() * 600_000);
  }
  return uploads;
}

/** The clean typing of every user's sessions, before any fault is planted. */
export function generateUploads(options: GenerateOptions): Upload[] {
  return Array.from({ length: options.users }, (_, u) => userUploads(options, u)).flat();
}

export function generate(options: GenerateOptions): Generated {
  const uploads = generateUploads(options);
  const planted = options.faults ? plantFaults(uploads, seededRandom(options.seed)) : undefined;
  const files = new Map<string, string | Buffer>();
  const all =
    planted?.uploads ??
    uploads.map((upload) => ({
      name: `${upload.session_id}.session.json`,
      body: JSON.stringify(upload),
    }));
  for (const { name, body } of all)
    files.set(name, name.endsWith('.gz') ? gzipSync(body, { level: 9 }) : body);
  return { files, planted: planted?.facts };
}

/** The same typing as Aalto 136M rows: one `<user>_keystrokes.txt` per user, integer ms, by press time. */
export function toAaltoFiles(uploads: readonly Upload[]): Map<string, string> {
  const header =
    'PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\tRELEASE_TIME\tLETTER\tKEYCODE';
  const byUser = new Map<string, string[]>();
  const sections = new Map<string, number>();
  let keystrokeId = 1;
  for (const upload of uploads) {
    const participant = String(Number(upload.user_id.replace(/\D/g, '')));
    const rows = byUser.get(participant) ?? [header];
    // Section ids unique across participants (up to 999 sessions each), like Aalto's TEST_SECTION_ID.
    const index = (sections.get(participant) ?? 0) + 1;
    sections.set(participant, index);
    const section = Number(participant) * 1000 + index;
    const downs = upload.events.filter((e) => e.type === 'down');
    for (const down of downs) {
      const up = upload.events.find(
        (e) => e.type === 'up' && e.code === down.code && e.t >= down.t,
      );
      if (up === undefined) continue;
      const press = Math.round(upload.time_origin + down.t);
      const release = Math.round(upload.time_origin + up.t);
      // Aalto's LETTER spells named keys its own way: BKSP, SHIFT.
      const letter =
        down.key === 'Backspace'
          ? 'BKSP'
          : down.key.length === 1
            ? down.key
            : down.key.toUpperCase();
      rows.push(
        [
          participant,
          section,
          upload.prompt,
          upload.text,
          keystrokeId++,
          press,
          release,
          letter,
          down.keyCode,
        ].join('\t'),
      );
    }
    byUser.set(participant, rows);
  }
  return new Map([...byUser].map(([p, rows]) => [`${p}_keystrokes.txt`, `${rows.join('\n')}\n`]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '2018' },
      users: { type: 'string', default: '20' },
      sessions: { type: 'string', default: '15' },
      out: { type: 'string', default: 'samples/webapp' },
      format: { type: 'string', default: 'webapp' },
      'no-faults': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: tsx samples/generate.ts [--seed N] [--users N] [--sessions N] [--out DIR] [--format webapp|aalto] [--no-faults]\n',
    );
    return;
  }
  const options = {
    seed: Number(values.seed),
    users: Number(values.users),
    sessionsPerUser: Number(values.sessions),
    faults: !values['no-faults'],
  };
  const out = resolve(values.out);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  if (values.format === 'aalto' || !options.faults) {
    // Without faults every user stands alone: write user by user, so large sets fit in memory.
    let written = 0;
    for (let u = 0; u < options.users; u++) {
      const uploads = userUploads(options, u);
      if (values.format === 'aalto') {
        for (const [name, text] of toAaltoFiles(uploads)) writeFileSync(join(out, name), text);
        written++;
      } else {
        for (const upload of uploads)
          writeFileSync(join(out, `${upload.session_id}.session.json`), JSON.stringify(upload));
        written += uploads.length;
      }
    }
    process.stdout.write(
      `wrote ${written} ${values.format === 'aalto' ? 'participant files' : 'uploads'} to ${out}\n`,
    );
    return;
  }
  const { files, planted } = generate(options);
  for (const [name, body] of files) writeFileSync(join(out, name), body);
  if (planted !== undefined)
    writeFileSync(join(out, 'PLANTED.json'), `${JSON.stringify(planted, null, 2)}\n`);
  process.stdout.write(`wrote ${files.size} uploads to ${out}\n`);
}

if (
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)
)
  await main();
