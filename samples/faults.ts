// The upload shape (config/upload.schema.json) and the faults real browsers and clients produce,
// planted into generated sessions in counted numbers. Each count in `Planted` names the clean rule
// that must catch it (see stages/clean.*.sql), so a test can compare rule by rule.
import type { Keystroke } from './typing.js';

export interface KeyEvent {
  t: number;
  type: 'down' | 'up';
  key: string;
  code: string;
  keyCode: number;
  repeat: boolean;
  composing: boolean;
  [unknown: string]: unknown;
}

export interface Upload {
  session_id: string;
  user_id: string;
  prompt: string;
  text: string;
  client: { user_agent: string; device: 'desktop' | 'mobile'; keyboard_layout: string };
  time_origin: number;
  events: KeyEvent[];
  [unknown: string]: unknown;
}

/** Browser order: events sorted by time; at the same instant a keydown comes before a keyup. */
export function toEvents(strokes: readonly Keystroke[]): KeyEvent[] {
  const events: KeyEvent[] = [];
  for (const s of strokes) {
    const base = {
      key: s.key.key,
      code: s.key.code,
      keyCode: s.key.keyCode,
      repeat: false,
      composing: false,
    };
    events.push({ t: s.press, type: 'down', ...base }, { t: s.release, type: 'up', ...base });
  }
  return events.sort((a, b) => a.t - b.t || (a.type === b.type ? 0 : a.type === 'down' ? -1 : 1));
}

export interface Planted {
  /** Counts per clean rule: events for event rules, files for file rules, keystrokes for session rules. */
  readonly rejected: Record<string, number>;
  /** Unknown fields planted: field path -> occurrences (a top-level field once per file). */
  readonly unknown_fields: Record<string, number>;
  /** What clean must keep. */
  readonly expected: {
    readonly sessions_out: number;
    readonly users_out: number;
    readonly keystrokes_out: number;
  };
}

const sortEvents = (events: KeyEvent[]) => events.sort((a, b) => a.t - b.t);

/** Plants faults into `uploads` (mutating them) and returns the files to write and the counts. */
export function plantFaults(
  uploads: Upload[],
  random: () => number,
): { uploads: { name: string; body: string }[]; facts: Planted } {
  const rejected: Record<string, number> = {
    repeat_keydown: 0,
    ime_composing: 0,
    unmatched_keydown: 0,
    unmatched_keyup: 0,
    duplicate_upload: 0,
    truncated_json: 0,
    schema_mismatch: 0,
    session_too_few_keystrokes: 0,
  };
  const unknown: Record<string, number> = { ab_bucket: 0, 'events[].location': 0 };
  const files: { name: string; body: string }[] = [];
  let keystrokes = 0;
  uploads.forEach((upload, i) => {
    const downs = upload.events.filter((e) => e.type === 'down');
    keystrokes += downs.length;
    // Auto-repeat: the last key held ~0.5 s longer; the browser repeats its keydown every 33 ms.
    if (i % 9 === 2) {
      const last = downs[downs.length - 1]!;
      const up = upload.events.find(
        (e) => e.type === 'up' && e.code === last.code && e.t >= last.t,
      )!;
      const repeats = 2 + Math.floor(random() * 5);
      up.t = Math.round((last.t + 500 + repeats * 33 + 10) * 10) / 10;
      for (let r = 0; r < repeats; r++)
        upload.events.push({
          ...last,
          t: Math.round((last.t + 500 + r * 33) * 10) / 10,
          repeat: true,
        });
      rejected.repeat_keydown! += repeats;
    }
    // IME composition after typing (keyCode 229, composing): two keystrokes' worth of events.
    if (i % 17 === 5) {
      const end = upload.events[upload.events.length - 1]!.t + 300;
      for (const [dt, type, composing] of [
        [0, 'down', false],
        [90, 'up', true],
        [200, 'down', true],
        [280, 'up', true],
      ] as const) {
        upload.events.push({
          t: end + dt,
          type,
          key: 'Process',
          code: 'KeyN',
          keyCode: 229,
          repeat: false,
          composing,
        });
      }
      rejected.ime_composing! += 4;
    }
    // A keyup lost (window blur, or Cmd held on macOS): the keydown has no partner.
    if (i % 11 === 7) {
      const victim = downs[1 + Math.floor(random() * (downs.length - 3))]!;
      const up = upload.events.find(
        (e) => e.type === 'up' && e.code === victim.code && e.t >= victim.t,
      )!;
      upload.events.splice(upload.events.indexOf(up), 1);
      rejected.unmatched_keydown! += 1;
      keystrokes -= 1;
    }
    // A keyup whose keydown happened before the page loaded (Enter from the previous page).
    if (i % 13 === 4) {
      upload.events.unshift({
        t: 120.5,
        type: 'up',
        key: 'Enter',
        code: 'Enter',
        keyCode: 13,
        repeat: false,
        composing: false,
      });
      rejected.unmatched_keyup! += 1;
    }
    // Fields a newer client sends that this schema does not know: tolerated and counted.
    if (i % 10 === 3) {
      upload.ab_bucket = 'B';
      for (const e of upload.events) e.location = 0;
      unknown.ab_bucket! += 1;
      unknown['events[].location']! += upload.events.length;
    }
    sortEvents(upload.events);
    const body = JSON.stringify(upload);
    files.push({ name: `${upload.session_id}.session.json${i % 7 === 1 ? '.gz' : ''}`, body });
    // The same session uploaded twice (a client retry): identical content under another name.
    if (i === 4) {
      files.push({ name: `${upload.session_id}.retry.session.json`, body });
      rejected.duplicate_upload! += 1;
    }
  });
  const first = uploads[0]!;
  // An upload cut off mid-transfer.
  const cut = JSON.stringify({ ...first, session_id: 'truncated-0001' });
  files.push({
    name: 'truncated-0001.session.json',
    body: cut.slice(0, Math.floor(cut.length * 0.6)),
  });
  rejected.truncated_json! += 1;
  // A file of another schema in the upload folder (an analytics beacon).
  files.push({
    name: 'beacon-0001.session.json',
    body: JSON.stringify({ schema: 'pageview/2', page: '/type', ms: 1234 }),
  });
  rejected.schema_mismatch! += 1;
  // Two sessions abandoned after a few keys: too short to keep.
  for (const [n, text] of [
    [1, 'ok'],
    [2, 'Hi'],
  ] as const) {
    const short = {
      ...first,
      session_id: `abandoned-000${n}`,
      prompt: text,
      text,
      events: first.events.slice(0, 0),
    };
    const strokes = first.events
      .filter((e) => e.type === 'down' && !e.repeat)
      .slice(0, text.length);
    for (const down of strokes) {
      const up = first.events.find(
        (e) => e.type === 'up' && e.code === down.code && e.t >= down.t,
      )!;
      short.events.push({ ...down }, { ...up });
    }
    sortEvents(short.events);
    files.push({ name: `abandoned-000${n}.session.json`, body: JSON.stringify(short) });
    rejected.session_too_few_keystrokes! += strokes.length;
  }
  const users = new Set(uploads.map((u) => u.user_id)).size;
  return {
    uploads: files,
    facts: {
      rejected,
      unknown_fields: unknown,
      expected: { sessions_out: uploads.length, users_out: users, keystrokes_out: keystrokes },
    },
  };
}
