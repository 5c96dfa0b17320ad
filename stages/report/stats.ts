// Per-participant typing statistics as Dhakal et al. define them ("Observations on Typing from 136
// Million Keystrokes", CHI 2018, doi:10.1145/3173574.3174220). Pure: session rows in, numbers out.
import type { SessionRow } from './queries.js';

/** The paper's means over its 168,000 participants, shown beside ours as a reference. */
export const dhakalReference = {
  participants: 168_000,
  wpm: 51.56,
  iki_ms: 238.66,
  hold_ms: 116.25,
  rollover: 0.25,
} as const;

export interface TypingStats {
  /** Mean over participants of each participant's mean WPM over their sentences. */
  readonly wpm: number | null;
  /** Mean over participants of the participant's mean press-to-press interval (PL), ms. */
  readonly iki_ms: number | null;
  /** Mean over participants of the participant's mean hold (release - press), ms. */
  readonly hold_ms: number | null;
  /** Mean over participants of the participant's share of pairs with IL < 0 (0..1). */
  readonly rollover: number | null;
  readonly participants: number;
}

export interface Participant {
  readonly source: string;
  readonly user_id: string;
  readonly sessions: number;
  readonly wpm: number | null;
  readonly iki_ms: number | null;
  readonly hold_ms: number | null;
  readonly rollover: number | null;
}

/**
 * WPM of one sentence: (|T| - 1) / S x 60 / 5, with |T| the typed text's length and S the seconds
 * from first to last press. "- 1" because the clock starts at the first key. Undefined (null) when
 * S is 0 (a single keystroke) or the text is empty.
 */
export function sessionWpm(
  s: Pick<SessionRow, 'typed_length' | 'first_press_ms' | 'last_press_ms'>,
): number | null {
  const seconds = (s.last_press_ms - s.first_press_ms) / 1000;
  if (seconds <= 0 || s.typed_length < 1) return null;
  return ((s.typed_length - 1) / seconds) * (60 / 5);
}

function mean(values: readonly (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length;
}

/**
 * A participant is a (source, user_id): the same id in two sources is two people. WPM is averaged
 * over sentences; IKI, hold and rollover pool the participant's pairs and keystrokes.
 */
export function participants(sessions: readonly SessionRow[]): Participant[] {
  const groups = new Map<string, SessionRow[]>();
  for (const s of sessions) {
    const key = JSON.stringify([s.source, s.user_id]);
    const rows = groups.get(key);
    if (rows === undefined) groups.set(key, [s]);
    else rows.push(s);
  }
  return [...groups.values()].map((rows) => {
    const first = rows[0]!;
    const keystrokes = rows.reduce((a, r) => a + r.keystrokes, 0);
    const pairs = rows.reduce((a, r) => a + r.pairs, 0);
    return {
      source: first.source,
      user_id: first.user_id,
      sessions: rows.length,
      wpm: mean(rows.map(sessionWpm)),
      iki_ms: pairs === 0 ? null : rows.reduce((a, r) => a + r.pl_sum_ms, 0) / pairs,
      hold_ms: keystrokes === 0 ? null : rows.reduce((a, r) => a + r.hold_sum_ms, 0) / keystrokes,
      rollover: pairs === 0 ? null : rows.reduce((a, r) => a + r.rollovers, 0) / pairs,
    };
  });
}

/** Means of participant means; a participant without a value (e.g. no pairs) is left out of that mean. */
export function typingStats(people: readonly Participant[]): TypingStats {
  return {
    wpm: mean(people.map((p) => p.wpm)),
    iki_ms: mean(people.map((p) => p.iki_ms)),
    hold_ms: mean(people.map((p) => p.hold_ms)),
    rollover: mean(people.map((p) => p.rollover)),
    participants: people.length,
  };
}

/** How many participants have 1, 2, 3, ... sessions. */
export function sessionsPerUser(
  people: readonly Participant[],
): { sessions: number; users: number }[] {
  const counts = new Map<number, number>();
  for (const p of people) counts.set(p.sessions, (counts.get(p.sessions) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([sessions, users]) => ({ sessions, users }));
}

/** Participant WPM in bins of `width` WPM: [lower, lower + width). */
export function wpmHistogram(
  people: readonly Participant[],
  width = 10,
): { lower_wpm: number; upper_wpm: number; users: number }[] {
  const counts = new Map<number, number>();
  for (const p of people) {
    if (p.wpm === null) continue;
    const lower = Math.floor(p.wpm / width) * width;
    counts.set(lower, (counts.get(lower) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([lower, users]) => ({ lower_wpm: lower, upper_wpm: lower + width, users }));
}
