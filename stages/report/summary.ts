// reports/summary.json: every number the page shows. The page (html.ts, charts.ts) is drawn from
// this object alone, so a number on the page can always be found here.
import type { HistogramBin } from './bins.js';
import { fillBins } from './bins.js';
import type { LockFingerprints, VersionComparison } from '../../lib/stage-api/index.js';
import type { Inputs } from './inputs.js';
import type {
  KeyRow,
  LatencyBinRow,
  LatencyName,
  LatencyStatsRow,
  RejectRow,
  SessionRow,
  TableCounts,
} from './queries.js';
import {
  dhakalReference,
  participants,
  sessionsPerUser,
  typingStats,
  wpmHistogram,
  type TypingStats,
} from './stats.js';

export const summaryFormat = 1;

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
    readonly stats: readonly LatencyStatsRow[];
    readonly histograms: Readonly<Record<LatencyName, readonly HistogramBin[]>>;
  };
  readonly typing: {
    readonly typed_length_method: string;
    /** Sessions whose typed-text length came from data/clean/sessions.parquet, and estimated ones. */
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
    /** Padding rows / all rows of sequences.parquet. */
    readonly padding_share: number;
  };
  readonly key_frequency: {
    readonly keystrokes: number;
    readonly top: readonly (KeyRow & { share: number })[];
  };
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
  readonly latencyBins: readonly LatencyBinRow[];
  readonly latencyStats: readonly LatencyStatsRow[];
  readonly keys: readonly KeyRow[];
}

export const typedLengthMethod =
  'the typed text (data/clean/sessions.parquet) where present, else estimated from keystrokes: keys that type a character minus Backspaces (exact when the typist only appends and backspaces)';

export function assembleSummary(p: SummaryParts): ReportSummary {
  const people = participants(p.sessions);
  const sources = [...new Set(people.map((x) => x.source))].sort();
  const histogram = (name: LatencyName) =>
    fillBins(p.latencyBins.filter((r) => r.latency === name));
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
      sequences: p.counts.sequences,
    },
    rejects: { total: p.rejects.reduce((a, r) => a + r.count, 0), by_rule: p.rejects },
    latency: {
      stats: p.latencyStats,
      histograms: { hl: histogram('hl'), il: histogram('il'), pl: histogram('pl') },
    },
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
      sequences: p.counts.sequences,
      padding_share:
        p.counts.sequence_rows === 0 ? 0 : p.counts.padding_rows / p.counts.sequence_rows,
    },
    key_frequency: {
      keystrokes: p.counts.keystrokes,
      top: p.keys.map((k) => ({
        ...k,
        share: p.counts.keystrokes === 0 ? 0 : k.count / p.counts.keystrokes,
      })),
    },
  };
}
