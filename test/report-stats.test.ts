// The report's pure core: Dhakal et al.'s per-participant statistics and the symlog histogram
// bins, on rows whose expected values are derived by hand in the comments.
import { describe, expect, it } from 'vitest';
import { binEdges, binOf, fillBins, latencyBinWidth } from '../stages/report/bins.js';
import type { SessionRow } from '../stages/report/queries.js';
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
    typed_length: 0,
    typed_length_estimated: true,
    first_press_ms: 0,
    last_press_ms: 0,
    hold_sum_ms: 0,
    pairs: 0,
    pl_sum_ms: 0,
    rollovers: 0,
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

describe('symlog latency bins', () => {
  it('puts a latency inside its own bin edges, negative ones too', () => {
    for (const ms of [-6325, -150, -20, -1, 0, 0.4, 1, 9, 10, 116, 238, 5000, 61_000]) {
      const { lower_ms, upper_ms } = binEdges(binOf(ms));
      expect(lower_ms).toBeLessThanOrEqual(ms);
      expect(ms).toBeLessThan(upper_ms);
    }
  });

  it('matches the transform by hand', () => {
    // -20 ms: t = -ln(21) = -3.0445, / 0.25 = -12.18 -> bin -13, edges -(e^3.25 - 1) = -24.79 and -(e^3 - 1) = -19.09.
    expect(latencyBinWidth).toBe(0.25);
    expect(binOf(-20)).toBe(-13);
    expect(binEdges(-13).lower_ms).toBeCloseTo(-24.79, 2);
    expect(binEdges(-13).upper_ms).toBeCloseTo(-19.09, 2);
    // 150 ms: ln(151) = 5.017 -> bin 20.
    expect(binOf(150)).toBe(20);
  });

  it("fills empty bins between a group's lowest and highest bin, with shares of the group", () => {
    const bins = fillBins([
      { grp: 'b', bin: 2, count: 3 },
      { grp: 'a', bin: -1, count: 1 },
      { grp: 'a', bin: 2, count: 3 },
    ]);
    // Group a: bins -1, 0, 1, 2 with counts 1, 0, 0, 3 of 4; group b: bin 2 only.
    expect(bins.map((b) => [b.group, b.count, b.share])).toEqual([
      ['a', 1, 0.25],
      ['a', 0, 0],
      ['a', 0, 0],
      ['a', 3, 0.75],
      ['b', 3, 1],
    ]);
    expect(bins[0]!.upper_ms).toBe(bins[1]!.lower_ms);
  });
});
