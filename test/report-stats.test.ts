// The report's pure core: Dhakal et al.'s per-participant statistics, distributions, spread per
// participant, within- vs between-user spread, session lengths at M and Backspace rates, on rows
// whose expected values are derived by hand in the comments. (Histogram bins: report-bins.test.ts.)
import { describe, expect, it } from 'vitest';
import { distribution, integerHistogram, quantile } from '../stages/report/distribution.js';
import type { ParticipantLatencyRow, SessionRow } from '../stages/report/queries.js';
import { backspaceRates, sequenceFit, sessionLengths } from '../stages/report/sessions.js';
import { participantSpread, variability } from '../stages/report/spread.js';
import {
  participants,
  sessionWpm,
  sessionsPerUser,
  typingStats,
  wpmHistogram,
} from '../stages/report/stats.js';

function session(over: Partial<SessionRow>): SessionRow {
  return {
    source: 'webapp',
    platform: 'desktop',
    user_id: 'u',
    session_id: 's',
    keystrokes: 0,
    backspaces: 0,
    typed_length: 0,
    typed_length_estimated: true,
    first_press_ms: 0,
    last_press_ms: 0,
    hold_sum_ms: 0,
    pairs: 0,
    hl_sum_ms: 0,
    il_sum_ms: 0,
    pl_sum_ms: 0,
    rl_sum_ms: 0,
    rollovers: 0,
    sequence_rows: null,
    padding_rows: null,
    ...over,
  };
}

describe('sessionWpm', () => {
  it('is (|T| - 1) / seconds x 60 / 5', () => {
    // 31 characters typed in 6 s from first to last press: 30 / 6 = 5 chars/s = 300 chars/min = 60 WPM.
    expect(
      sessionWpm({ typed_length: 31, first_press_ms: 1_000, last_press_ms: 7_000 }),
    ).toBeCloseTo(60, 10);
  });
  it('is undefined for a single press (0 s) and for empty text', () => {
    expect(sessionWpm({ typed_length: 1, first_press_ms: 5, last_press_ms: 5 })).toBeNull();
    expect(sessionWpm({ typed_length: 0, first_press_ms: 0, last_press_ms: 900 })).toBeNull();
  });
});

describe('participants and means of participant means', () => {
  // Alice: sentence 1, 11 chars in 2 s -> 10/2 x 12 = 60 WPM; sentence 2, 6 chars in 2.5 s -> 5/2.5 x 12 = 24 WPM.
  //   Her WPM is the mean over sentences: (60 + 24) / 2 = 42 (not pooled: pooled would be 15/4.5 x 12 = 40).
  //   Pairs pooled: PL sums 2000 + 2500 over 10 + 5 pairs -> IKI 4500 / 15 = 300 ms; rollovers 3 + 0 of 15 -> 0.2.
  //   Holds pooled: 1100 + 600 ms over 11 + 6 keystrokes -> 1700 / 17 = 100 ms.
  // Bob (aalto, same user id "a" as Alice but another source: another person): one sentence,
  //   3 chars in 0.5 s -> 2/0.5 x 12 = 48 WPM; PL 400 over 2 pairs -> 200 ms; 1 of 2 rolled over -> 0.5; holds 240/3 = 80.
  // Carol: a single keystroke: no WPM, no IKI, no rollover; hold 90.
  const rows = [
    session({
      user_id: 'a',
      session_id: '1',
      keystrokes: 11,
      typed_length: 11,
      first_press_ms: 0,
      last_press_ms: 2000,
      hold_sum_ms: 1100,
      pairs: 10,
      pl_sum_ms: 2000,
      rollovers: 3,
    }),
    session({
      user_id: 'a',
      session_id: '2',
      keystrokes: 6,
      typed_length: 6,
      first_press_ms: 10_000,
      last_press_ms: 12_500,
      hold_sum_ms: 600,
      pairs: 5,
      pl_sum_ms: 2500,
      rollovers: 0,
    }),
    session({
      source: 'aalto',
      user_id: 'a',
      session_id: '9',
      keystrokes: 3,
      typed_length: 3,
      first_press_ms: 0,
      last_press_ms: 500,
      hold_sum_ms: 240,
      pairs: 2,
      pl_sum_ms: 400,
      rollovers: 1,
    }),
    session({
      user_id: 'c',
      session_id: '3',
      keystrokes: 1,
      typed_length: 1,
      first_press_ms: 7,
      last_press_ms: 7,
      hold_sum_ms: 90,
    }),
  ];
  const people = participants(rows);

  it('keys a participant by source and user id', () => {
    expect(people.map((p) => [p.source, p.user_id, p.sessions])).toEqual([
      ['webapp', 'a', 2],
      ['aalto', 'a', 1],
      ['webapp', 'c', 1],
    ]);
  });

  it('averages WPM over sentences and pools pairs and keystrokes within a participant', () => {
    const alice = people[0]!;
    expect(alice.wpm).toBeCloseTo(42, 10);
    expect(alice.iki_ms).toBeCloseTo(300, 10);
    expect(alice.hold_ms).toBeCloseTo(100, 10);
    expect(alice.rollover).toBeCloseTo(0.2, 10);
    expect(people[2]).toMatchObject({ wpm: null, iki_ms: null, rollover: null, hold_ms: 90 });
  });

  it('averages participant means, leaving out participants without a value', () => {
    // WPM (42 + 48) / 2 = 45; IKI (300 + 200) / 2 = 250; hold (100 + 80 + 90) / 3 = 90; rollover (0.2 + 0.5) / 2 = 0.35.
    const all = typingStats(people);
    expect(all.participants).toBe(3);
    expect(all.wpm).toBeCloseTo(45, 10);
    expect(all.iki_ms).toBeCloseTo(250, 10);
    expect(all.hold_ms).toBeCloseTo(90, 10);
    expect(all.rollover).toBeCloseTo(0.35, 10);
    expect(typingStats([])).toEqual({
      wpm: null,
      iki_ms: null,
      hold_ms: null,
      rollover: null,
      participants: 0,
    });
  });

  it('counts sessions per participant and bins participant WPM by 10', () => {
    expect(sessionsPerUser(people)).toEqual([
      { sessions: 1, users: 2 },
      { sessions: 2, users: 1 },
    ]);
    // 42 and 48 both fall in [40, 50); Carol has no WPM.
    expect(wpmHistogram(people)).toEqual([{ lower_wpm: 40, upper_wpm: 50, users: 2 }]);
  });
});

describe('distribution', () => {
  it('interpolates percentiles like quantile_cont and takes the sample SD', () => {
    // 1, 2, 4, 10: p25 at position 3 x 0.25 = 0.75 -> 1 + 0.75 x (2 - 1) = 1.75; p50 at 1.5 -> 3;
    // p75 at 2.25 -> 4 + 0.25 x 6 = 5.5; p10 at 0.3 -> 1.3; p90 at 2.7 -> 4 + 0.7 x 6 = 8.2.
    // Mean 17 / 4 = 4.25; squares of deviations 10.5625 + 5.0625 + 0.0625 + 33.0625 = 48.75 -> SD sqrt(16.25).
    const d = distribution([10, null, 2, 4, 1]);
    expect(d.n).toBe(4);
    expect(d.p10).toBeCloseTo(1.3, 12);
    expect(d.p25).toBeCloseTo(1.75, 12);
    expect(d.p50).toBe(3);
    expect(d.p75).toBeCloseTo(5.5, 12);
    expect(d.p90).toBeCloseTo(8.2, 12);
    expect(d.mean).toBe(4.25);
    expect(d.sd).toBeCloseTo(Math.sqrt(16.25), 12);
    expect(distribution([])).toMatchObject({ n: 0, mean: null, sd: null, p50: null });
    expect(distribution([7])).toMatchObject({ n: 1, mean: 7, sd: null, p10: 7, p90: 7 });
    expect(quantile([5], 0.5)).toBe(5);
  });

  it('bins whole numbers into at most maxBins whole-number bins, empty ones included', () => {
    // 3..12 is 10 values wide; 4 bins -> width ceil(10 / 4) = 3: [3,6) [6,9) [9,12) [12,15).
    expect(integerHistogram([3, 4, 12, 5, 9], 4)).toEqual([
      { lower: 3, upper: 6, count: 3 },
      { lower: 6, upper: 9, count: 0 },
      { lower: 9, upper: 12, count: 1 },
      { lower: 12, upper: 15, count: 1 },
    ]);
    expect(integerHistogram([])).toEqual([]);
  });
});

/** A participant's latency row where every latency has the same spread (tests vary HL only). */
function person(
  user_id: string,
  pairs: number,
  hl: { mean_ms: number; sd_ms: number | null; q: [number, number, number] },
): ParticipantLatencyRow {
  const same = { mean_ms: 100, sd_ms: 10, quartiles_ms: [90, 100, 110] as const };
  return {
    source: 'aalto',
    user_id,
    pairs,
    hl: { mean_ms: hl.mean_ms, sd_ms: hl.sd_ms, quartiles_ms: hl.q },
    il: same,
    pl: same,
    rl: same,
  };
}

describe('spread per participant and within- vs between-user spread', () => {
  // Three participants' HL over their pairs: A mean 100, SD 20, IQR 120 - 90 = 30; B mean 140, SD 40,
  // IQR 60; C has one pair (no SD): left out of every spread.
  const people = [
    person('A', 50, { mean_ms: 100, sd_ms: 20, q: [90, 100, 120] }),
    person('B', 30, { mean_ms: 140, sd_ms: 40, q: [110, 140, 170] }),
    person('C', 1, { mean_ms: 500, sd_ms: null, q: [500, 500, 500] }),
  ];

  it('describes SD and IQR over the participants with two or more pairs', () => {
    const hl = participantSpread(people).hl;
    expect(hl.participants).toBe(2);
    // SDs 20 and 40: median 30, mean 30; IQRs 30 and 60: median 45.
    expect(hl.sd_ms).toMatchObject({ n: 2, p50: 30, mean: 30 });
    expect(hl.iqr_ms).toMatchObject({ n: 2, p50: 45, p25: 37.5 });
    expect(hl.mean_ms).toMatchObject({ p50: 120 });
  });

  it('compares the mean within-user SD with the SD of user means, per pair and per session', () => {
    // Within (pairs): (20 + 40) / 2 = 30. Between: means 100 and 140 -> sample SD sqrt(2 x 20^2 / 1) = 28.284.
    // Sessions: A's session HL means 1000/10 = 100 and 1100/10 = 110 -> SD sqrt(50) = 7.071;
    //   B's 1200/10 = 120 and 1600/10 = 160 -> SD sqrt(800) = 28.284; mean 17.678.
    //   C has one session: left out. Ratios: 28.284 / 30 = 0.943 and 28.284 / 17.678 = 1.6.
    const sessions = [
      session({ source: 'aalto', user_id: 'A', session_id: '1', pairs: 10, hl_sum_ms: 1000 }),
      session({ source: 'aalto', user_id: 'A', session_id: '2', pairs: 10, hl_sum_ms: 1100 }),
      session({ source: 'aalto', user_id: 'B', session_id: '3', pairs: 10, hl_sum_ms: 1200 }),
      session({ source: 'aalto', user_id: 'B', session_id: '4', pairs: 10, hl_sum_ms: 1600 }),
      session({ source: 'aalto', user_id: 'C', session_id: '5', pairs: 1, hl_sum_ms: 500 }),
    ];
    const v = variability('hl', people, sessions);
    expect(v.participants).toBe(2);
    expect(v.within_sd_ms).toBe(30);
    expect(v.between_sd_ms).toBeCloseTo(Math.sqrt(800), 12);
    expect(v.ratio).toBeCloseTo(Math.sqrt(800) / 30, 12);
    expect(v.participants_with_sessions).toBe(2);
    expect(v.within_session_means_sd_ms).toBeCloseTo((Math.sqrt(50) + Math.sqrt(800)) / 2, 12);
    expect(v.session_ratio).toBeCloseTo(1.6, 12);
    expect(v.reading).toMatch(/^One participant's HL scatters more \(ratio 0\.94\)/);
    expect(v.reading).toMatch(/steadier than the differences between participants \(ratio 1\.60\)/);
  });
});

describe('sessions at M and Backspace', () => {
  // M = 4. Session a: 7 keystrokes, 6 pairs -> truncated (2 pairs cut), 4 rows, no padding.
  // b: 5 keystrokes, 4 pairs -> exactly M. c: 3 keystrokes, 2 pairs -> padded, 2 padding rows.
  // d: 2 keystrokes, not in the sequences (its participant was dropped).
  const rows = [
    session({
      user_id: 'p',
      session_id: 'a',
      keystrokes: 7,
      pairs: 6,
      backspaces: 2,
      sequence_rows: 4,
      padding_rows: 0,
    }),
    session({
      user_id: 'p',
      session_id: 'b',
      keystrokes: 5,
      pairs: 4,
      backspaces: 0,
      sequence_rows: 4,
      padding_rows: 0,
    }),
    session({
      user_id: 'q',
      session_id: 'c',
      keystrokes: 3,
      pairs: 2,
      backspaces: 1,
      sequence_rows: 4,
      padding_rows: 2,
    }),
    session({ user_id: 'r', session_id: 'd', keystrokes: 2, pairs: 1, backspaces: 0 }),
  ];

  it('counts truncated, padded and exact sessions among those features kept', () => {
    // 3 kept sessions; pairs 6 + 4 + 2 = 12, 2 cut -> 1/6; rows 12, padding 2 -> 1/6.
    expect(sequenceFit(4, rows)).toEqual({
      M: 4,
      sessions: 3,
      truncated: 1,
      padded: 1,
      exact: 1,
      truncated_share: 1 / 3,
      padded_share: 1 / 3,
      pairs_cut_share: 2 / 12,
      padding_share: 2 / 12,
    });
  });

  it('describes keystrokes per session over every session', () => {
    // 7, 5, 3, 2: median 4, mean 4.25; bins of 1 from 2 to 7.
    const l = sessionLengths(rows);
    expect(l.sessions).toBe(4);
    expect(l.keystrokes).toMatchObject({ n: 4, p50: 4, mean: 4.25 });
    expect(l.histogram.map((b) => b.count)).toEqual([1, 1, 0, 1, 0, 1]);
  });

  it('takes each participant’s Backspace share of their keystrokes', () => {
    // p: 2 of 12 -> 16.67 %; q: 1 of 3 -> 33.33 %; r: 0 of 2. Overall 3 of 17.
    const b = backspaceRates(rows);
    expect(b.overall).toBeCloseTo(3 / 17, 12);
    expect(b.participants).toBe(3);
    expect(b.participants_without).toBe(1);
    expect(b.per_participant).toMatchObject({ n: 3, p50: 2 / 12 });
    expect(b.per_participant.mean).toBeCloseTo((2 / 12 + 1 / 3) / 3, 12);
    // Whole-percent bins 0..33: r in [0, 1), p in [16, 17), q in [33, 34).
    expect(b.histogram).toHaveLength(34);
    expect(b.histogram.filter((h) => h.participants > 0).map((h) => h.lower_pct)).toEqual([
      0, 16, 33,
    ]);
  });
});
