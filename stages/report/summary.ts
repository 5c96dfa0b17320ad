// reports/summary.json: every number the page shows. The page (html.ts, charts.ts) is drawn from
// this object alone, so a number on the page can always be found here.
import type { HistogramBin } from './bins.js';
import { fillBins } from './bins.js';
import type { LockFingerprints, VersionComparison } from '../../lib/stage-api/index.js';
import type { Inputs } from './inputs.js';
import type {
  DigraphRow,
  KeyRow,
  LatencyGroupRow,
  LatencyName,
  ParticipantLatencyRow,
  Quartiles,
  RejectRow,
  SessionRow,
  TableCounts,
} from './queries.js';
import { latencyNames } from './queries.js';
import {
  backspaceRates,
  sequenceFit,
  sessionLengths,
  type BackspaceRates,
  type SequenceFit,
  type SessionLengths,
} from './sessions.js';
import {
  participantSpread,
  variability,
  type ParticipantSpread,
  type Variability,
} from './spread.js';
import {
  dhakalReference,
  participants,
  sessionsPerUser,
  typingStats,
  wpmHistogram,
  type TypingStats,
} from './stats.js';

/** 2: RL, spread, variability, session lengths, digraphs, Backspace (docs/report.md). */
export const summaryFormat = 2;

export interface ReportSummary {
  readonly format: number;
  /** PIPE_VERSION when the report is built for a published version, else 'unpublished'. */
  readonly version: string;
  readonly built_at: string;
  readonly lock: LockFingerprints;
  /** These outputs against the newest published version (compare.ts), or why there is none. */
  readonly version_diff: VersionComparison;
  readonly funnel: {
    readonly uploads: number;
    readonly web_events_in: number;
    readonly aalto_rows_in: number;
    readonly keystrokes: number;
    readonly sessions: number;
    readonly key_pairs: number;
    readonly sequences: number;
  };
  readonly rejects: { readonly total: number; readonly by_rule: readonly RejectRow[] };
  readonly latency: {
    readonly stats: readonly LatencyStats[];
    readonly histograms: Readonly<Record<LatencyName, readonly HistogramBin[]>>;
    /** Per latency: each participant's mean, SD and IQR, as distributions over participants. */
    readonly per_participant: Readonly<Record<LatencyName, ParticipantSpread>>;
    /** Per latency: within-user vs between-user spread. */
    readonly variability: Readonly<Record<LatencyName, Variability>>;
  };
  readonly sessions: {
    readonly lengths: SessionLengths;
    readonly sequence_fit: SequenceFit;
    /** Whether participants have different numbers of sessions (the chart is shown only then). */
    readonly sessions_per_user_varies: boolean;
  };
  readonly digraphs: {
    readonly key_pairs: number;
    readonly top: readonly Digraph[];
  };
  readonly backspace: BackspaceRates;
  readonly typing: {
    readonly typed_length_method: string;
    /** Sessions whose typed-text length came from data/clean/sessions/, and estimated ones. */
    readonly typed_length_sessions: { readonly from_text: number; readonly estimated: number };
    readonly all: TypingStats;
    readonly by_source: Readonly<Record<string, TypingStats>>;
    readonly reference: typeof dhakalReference;
    readonly wpm_histogram: readonly { lower_wpm: number; upper_wpm: number; users: number }[];
  };
  readonly sessions_per_user: readonly { sessions: number; users: number }[];
  readonly features: {
    readonly M: number;
    readonly min_sessions_per_user: number;
    readonly users_kept: number;
    readonly users_dropped: number;
    readonly sequences: number;
    /** Padding rows / all rows of sequences/. */
    readonly padding_share: number;
  };
  readonly key_frequency: {
    readonly keystrokes: number;
    readonly top: readonly (KeyRow & { share: number })[];
  };
}

/** One latency in one source/platform group. */
export interface LatencyStats {
  readonly latency: LatencyName;
  readonly grp: string;
  readonly n: number;
  readonly mean_ms: number;
  readonly sd_ms: number | null;
  readonly q25_ms: number;
  readonly median_ms: number;
  readonly q75_ms: number;
  readonly iqr_ms: number;
  readonly negative: number;
}

export interface LatencyQuartiles {
  readonly q25_ms: number;
  readonly median_ms: number;
  readonly q75_ms: number;
}

export interface Digraph {
  readonly keycode1: number;
  readonly keycode2: number;
  /** The keys' most frequent names (key_frequency), e.g. "t → h". */
  readonly label: string;
  readonly count: number;
  /** count / all key pairs. */
  readonly share: number;
  readonly hl: LatencyQuartiles;
  readonly il: LatencyQuartiles;
  readonly pl: LatencyQuartiles;
  readonly rl: LatencyQuartiles;
}

export interface SummaryParts {
  readonly version: string;
  readonly builtAt: Date;
  readonly lock: LockFingerprints;
  readonly versionDiff: VersionComparison;
  readonly inputs: Inputs;
  readonly counts: TableCounts;
  readonly sessions: readonly SessionRow[];
  readonly rejects: readonly RejectRow[];
  readonly latencyGroups: readonly LatencyGroupRow[];
  readonly participantLatencies: readonly ParticipantLatencyRow[];
  readonly digraphs: readonly DigraphRow[];
  /** Every keyCode typed, most frequent first. */
  readonly keys: readonly KeyRow[];
  /** How many of `keys` the summary lists. */
  readonly topKeys: number;
}

const named = (q: Quartiles): LatencyQuartiles => ({
  q25_ms: q[0],
  median_ms: q[1],
  q75_ms: q[2],
});

/** A key as a label: whitespace keys get their name, since " " would print as nothing. */
export function keyLabel(key: string | null | undefined): string {
  if (key === null || key === undefined) return '(no key name)';
  return ({ ' ': 'Space', '\t': 'Tab', '\n': 'Enter' } as Record<string, string>)[key] ?? key;
}

export const typedLengthMethod =
  'the typed text (data/clean/sessions/) where present, else estimated from keystrokes: keys that type a character minus Backspaces (exact when the typist only appends and backspaces)';

export function assembleSummary(p: SummaryParts): ReportSummary {
  const people = participants(p.sessions);
  const sources = [...new Set(people.map((x) => x.source))].sort();
  const histogram = (name: LatencyName) =>
    fillBins(
      p.latencyGroups
        .filter((r) => r.latency === name)
        .flatMap((r) => r.bins.map((b) => ({ grp: r.grp, ...b }))),
    );
  const perLatency = <T>(f: (l: LatencyName) => T) =>
    Object.fromEntries(latencyNames.map((l) => [l, f(l)])) as Record<LatencyName, T>;
  const keyNames = new Map(p.keys.map((k) => [k.keycode, k.key]));
  const name = (code: number) => keyLabel(keyNames.get(code));
  const fit = sequenceFit(p.inputs.features.M, p.sessions);
  return {
    format: summaryFormat,
    version: p.version,
    built_at: p.builtAt.toISOString(),
    lock: p.lock,
    version_diff: p.versionDiff,
    funnel: {
      uploads: p.inputs.uploads,
      web_events_in: p.inputs.clean.events_in,
      aalto_rows_in: p.inputs.clean.rows_in,
      keystrokes: p.counts.keystrokes,
      sessions: p.sessions.length,
      key_pairs: p.counts.key_pairs,
      sequences: fit.sessions,
    },
    rejects: { total: p.rejects.reduce((a, r) => a + r.count, 0), by_rule: p.rejects },
    latency: {
      stats: p.latencyGroups.map((r) => ({
        latency: r.latency,
        grp: r.grp,
        n: r.n,
        mean_ms: r.mean_ms,
        sd_ms: r.sd_ms,
        ...named(r.quartiles_ms),
        iqr_ms: r.quartiles_ms[2] - r.quartiles_ms[0],
        negative: r.negative,
      })),
      histograms: perLatency(histogram),
      per_participant: participantSpread(p.participantLatencies),
      variability: perLatency((l) => variability(l, p.participantLatencies, p.sessions)),
    },
    sessions: {
      lengths: sessionLengths(p.sessions),
      sequence_fit: fit,
      sessions_per_user_varies: new Set(people.map((x) => x.sessions)).size > 1,
    },
    digraphs: {
      key_pairs: p.counts.key_pairs,
      top: p.digraphs.map((d) => ({
        keycode1: d.keycode1,
        keycode2: d.keycode2,
        label: `${name(d.keycode1)} → ${name(d.keycode2)}`,
        count: d.count,
        share: p.counts.key_pairs === 0 ? 0 : d.count / p.counts.key_pairs,
        hl: named(d.hl_ms),
        il: named(d.il_ms),
        pl: named(d.pl_ms),
        rl: named(d.rl_ms),
      })),
    },
    backspace: backspaceRates(p.sessions),
    typing: {
      typed_length_method: typedLengthMethod,
      typed_length_sessions: {
        from_text: p.sessions.filter((x) => !x.typed_length_estimated).length,
        estimated: p.sessions.filter((x) => x.typed_length_estimated).length,
      },
      all: typingStats(people),
      by_source: Object.fromEntries(
        sources.map((s) => [s, typingStats(people.filter((x) => x.source === s))]),
      ),
      reference: dhakalReference,
      wpm_histogram: wpmHistogram(people),
    },
    sessions_per_user: sessionsPerUser(people),
    features: {
      M: p.inputs.features.M,
      min_sessions_per_user: p.inputs.features.min_sessions_per_user,
      users_kept: p.inputs.features.users_kept,
      users_dropped: p.inputs.features.users_dropped,
      sequences: fit.sessions,
      padding_share: fit.padding_share,
    },
    key_frequency: {
      keystrokes: p.counts.keystrokes,
      top: p.keys.slice(0, p.topKeys).map((k) => ({
        ...k,
        share: p.counts.keystrokes === 0 ? 0 : k.count / p.counts.keystrokes,
      })),
    },
  };
}
