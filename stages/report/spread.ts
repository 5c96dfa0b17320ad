// Spread, not only means: how much each participant's latencies vary (SD and IQR per participant,
// and how those spread over participants), and how that compares with the differences between
// participants (within-user vs between-user spread), which is what lets a model tell users apart.
// Pure: per-participant and per-session rows in, numbers out.
import { distribution, mean, sampleSd, type Distribution } from './distribution.js';
import type { LatencyName, ParticipantLatencyRow, SessionRow } from './queries.js';
import { latencyNames } from './queries.js';

export interface ParticipantSpread {
  /** Participants with at least 2 key pairs (an SD needs two). */
  readonly participants: number;
  /** Over participants: each participant's mean, SD and IQR (75th - 25th percentile) of the latency. */
  readonly mean_ms: Distribution;
  readonly sd_ms: Distribution;
  readonly iqr_ms: Distribution;
}

/** Per latency, the distribution over participants of their mean, SD and IQR. */
export function participantSpread(
  rows: readonly ParticipantLatencyRow[],
): Record<LatencyName, ParticipantSpread> {
  const withSpread = rows.filter((r) => r.pairs >= 2);
  const out = {} as Record<LatencyName, ParticipantSpread>;
  for (const l of latencyNames) {
    out[l] = {
      participants: withSpread.length,
      mean_ms: distribution(withSpread.map((r) => r[l].mean_ms)),
      sd_ms: distribution(withSpread.map((r) => r[l].sd_ms)),
      iqr_ms: distribution(withSpread.map((r) => r[l].quartiles_ms[2] - r[l].quartiles_ms[0])),
    };
  }
  return out;
}

export interface Variability {
  /** Participants with at least 2 key pairs. */
  readonly participants: number;
  /** Mean over participants of the SD of their own key pairs' values. */
  readonly within_sd_ms: number | null;
  /** SD over participants of the participants' means. */
  readonly between_sd_ms: number | null;
  /** between / within: above 1, users' means lie further apart than one user's keystrokes scatter. */
  readonly ratio: number | null;
  /** Participants with at least 2 sessions that have key pairs. */
  readonly participants_with_sessions: number;
  /** Mean over those participants of the SD of their session means (one mean per typed sentence). */
  readonly within_session_means_sd_ms: number | null;
  /** between / within_session_means: the same comparison for one sentence's average. */
  readonly session_ratio: number | null;
  /** What the ratios mean for telling users apart, in a sentence. */
  readonly reading: string;
}

const sumField: Record<LatencyName, keyof SessionRow> = {
  hl: 'hl_sum_ms',
  il: 'il_sum_ms',
  pl: 'pl_sum_ms',
  rl: 'rl_sum_ms',
};

/**
 * Within-user vs between-user spread of one latency. Keystroke level: a participant's SD over
 * their pairs, against the SD of participant means. Session level: the SD of a participant's
 * session means (what a model sees when it reads a whole sentence), against the same.
 */
export function variability(
  latency: LatencyName,
  participants: readonly ParticipantLatencyRow[],
  sessions: readonly SessionRow[],
): Variability {
  const withSpread = participants.filter((r) => r.pairs >= 2);
  const within = mean(
    withSpread.map((r) => r[latency].sd_ms).filter((v): v is number => v !== null),
  );
  const between = sampleSd(withSpread.map((r) => r[latency].mean_ms));
  const sessionMeans = new Map<string, number[]>();
  for (const s of sessions) {
    if (s.pairs === 0) continue;
    const key = JSON.stringify([s.source, s.user_id]);
    const list = sessionMeans.get(key) ?? [];
    list.push((s[sumField[latency]] as number) / s.pairs);
    sessionMeans.set(key, list);
  }
  const perUser = [...sessionMeans.values()].filter((m) => m.length >= 2);
  const withinSessions = mean(perUser.map((m) => sampleSd(m)!));
  const ratio = between !== null && within ? between / within : null;
  const sessionRatio = between !== null && withinSessions ? between / withinSessions : null;
  return {
    participants: withSpread.length,
    within_sd_ms: within,
    between_sd_ms: between,
    ratio,
    participants_with_sessions: perUser.length,
    within_session_means_sd_ms: withinSessions,
    session_ratio: sessionRatio,
    reading: reading(latency, ratio, sessionRatio),
  };
}

function reading(latency: LatencyName, ratio: number | null, sessionRatio: number | null): string {
  const name = latency.toUpperCase();
  if (ratio === null) return `${name}: too few participants or pairs to compare.`;
  const single =
    ratio < 1
      ? `one participant's ${name} scatters more (ratio ${ratio.toFixed(2)}) than participants' means differ, so a single key pair says little about who typed it`
      : `participants' mean ${name} differ more than one participant's pairs scatter (ratio ${ratio.toFixed(2)}), so even single key pairs carry identity`;
  if (sessionRatio === null) return `${single}.`;
  const sentence =
    sessionRatio >= 1
      ? `averaged over a sentence, a participant's ${name} is steadier than the differences between participants (ratio ${sessionRatio.toFixed(2)}): sequences separate users better than keystrokes do`
      : `even averaged over a sentence a participant's ${name} varies more than participants differ (ratio ${sessionRatio.toFixed(2)}): the mean alone will not separate users, the pattern across keys has to`;
  return `${single.charAt(0).toUpperCase()}${single.slice(1)}; ${sentence}.`;
}
