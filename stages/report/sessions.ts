// Sessions as TypeNet sees them, and errors: how long sentences are (keystrokes per session), how
// many of them the features stage cut at M or padded up to M, and how often each participant
// pressed Backspace. Pure: session rows in, numbers out.
import { distribution, integerHistogram, type Distribution } from './distribution.js';
import type { SessionRow } from './queries.js';

export interface SessionLengths {
  readonly sessions: number;
  /** Keystrokes per session, over every session in data/clean. */
  readonly keystrokes: Distribution;
  /** The same in whole-number bins [lower, upper), at most 40 of them. */
  readonly histogram: readonly { lower: number; upper: number; count: number }[];
}

export interface SequenceFit {
  /** features.sequence_length: key-pair vectors per sequence (a session of N keystrokes has N - 1). */
  readonly M: number;
  /** Sessions in data/features/sequences/ (the participants features kept). */
  readonly sessions: number;
  /** Sessions with more than M pairs: features kept their first M. */
  readonly truncated: number;
  /** Sessions with fewer than M pairs: features padded them (padding rows in sequences/). */
  readonly padded: number;
  /** Sessions with exactly M pairs. */
  readonly exact: number;
  readonly truncated_share: number;
  readonly padded_share: number;
  /** Key pairs left out by truncation / all pairs of these sessions. */
  readonly pairs_cut_share: number;
  /** Padding rows / all rows of sequences/. */
  readonly padding_share: number;
}

export function sessionLengths(sessions: readonly SessionRow[]): SessionLengths {
  const lengths = sessions.map((s) => s.keystrokes);
  return {
    sessions: sessions.length,
    keystrokes: distribution(lengths),
    histogram: integerHistogram(lengths),
  };
}

/**
 * Truncation and padding at M, for the sessions features wrote: truncated from the session's pair
 * count (sequences/ cannot show what it cut), padded from its padding rows (what features
 * wrote), so the two come from different tables.
 */
export function sequenceFit(M: number, sessions: readonly SessionRow[]): SequenceFit {
  const kept = sessions.filter((s) => s.sequence_rows !== null);
  const truncated = kept.filter((s) => s.pairs > M).length;
  const padded = kept.filter((s) => (s.padding_rows ?? 0) > 0).length;
  const pairs = kept.reduce((a, s) => a + s.pairs, 0);
  const cut = kept.reduce((a, s) => a + Math.max(0, s.pairs - M), 0);
  const rows = kept.reduce((a, s) => a + (s.sequence_rows ?? 0), 0);
  const paddingRows = kept.reduce((a, s) => a + (s.padding_rows ?? 0), 0);
  const share = (n: number, of: number) => (of === 0 ? 0 : n / of);
  return {
    M,
    sessions: kept.length,
    truncated,
    padded,
    exact: kept.length - truncated - padded,
    truncated_share: share(truncated, kept.length),
    padded_share: share(padded, kept.length),
    pairs_cut_share: share(cut, pairs),
    padding_share: share(paddingRows, rows),
  };
}

export interface BackspaceRates {
  /** Backspace keystrokes / all keystrokes, over the whole data set. */
  readonly overall: number;
  readonly participants: number;
  /** Over participants: each participant's share of keystrokes that are Backspace (0..1). */
  readonly per_participant: Distribution;
  /** Participants who never pressed Backspace. */
  readonly participants_without: number;
  /** Participants per whole percent of Backspace share: [lower_pct, upper_pct). */
  readonly histogram: readonly { lower_pct: number; upper_pct: number; participants: number }[];
}

/** Backspace share per participant (source, user_id): their Backspaces / their keystrokes. */
export function backspaceRates(sessions: readonly SessionRow[]): BackspaceRates {
  const people = new Map<string, { keystrokes: number; backspaces: number }>();
  let keystrokes = 0;
  let backspaces = 0;
  for (const s of sessions) {
    const key = JSON.stringify([s.source, s.user_id]);
    const p = people.get(key) ?? { keystrokes: 0, backspaces: 0 };
    p.keystrokes += s.keystrokes;
    p.backspaces += s.backspaces;
    people.set(key, p);
    keystrokes += s.keystrokes;
    backspaces += s.backspaces;
  }
  const shares = [...people.values()].map((p) => p.backspaces / p.keystrokes);
  const counts = new Map<number, number>();
  for (const p of people.values()) {
    // From the counts, not the share: 0.29 x 100 is 28.999... in floating point.
    const lower = Math.floor((p.backspaces * 100) / p.keystrokes);
    counts.set(lower, (counts.get(lower) ?? 0) + 1);
  }
  const top = Math.max(-1, ...counts.keys());
  const histogram = [];
  for (let lower = 0; lower <= top; lower++)
    histogram.push({
      lower_pct: lower,
      upper_pct: lower + 1,
      participants: counts.get(lower) ?? 0,
    });
  return {
    overall: keystrokes === 0 ? 0 : backspaces / keystrokes,
    participants: people.size,
    per_participant: distribution(shares),
    participants_without: shares.filter((s) => s === 0).length,
    histogram,
  };
}
