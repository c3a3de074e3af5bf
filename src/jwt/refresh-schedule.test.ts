import assert from 'node:assert/strict';
import { nextRefreshDelayMs, parseMaxAgeSec, type ScheduleInput } from './refresh-schedule.ts';

const base: ScheduleInput = {
  ok: true,
  consecutiveFailures: 0,
  maxAgeSec: undefined,
  refreshMs: 60_000,
  floorMs: 2000,
};

describe('nextRefreshDelayMs', () => {
  const cases: Array<[name: string, input: Partial<ScheduleInput>, delayMs: number]> = [
    ['refreshes on the interval after a success without max-age', {}, 60_000],
    ['honours a max-age shorter than the interval', { maxAgeSec: 30 }, 30_000],
    ['never waits longer than the interval, whatever max-age says', { maxAgeSec: 86_400 }, 60_000],
    ['never refreshes faster than the floor on a tiny max-age', { maxAgeSec: 0 }, 2000],
    ['never refreshes faster than once a second with no floor', { maxAgeSec: 0, floorMs: 0 }, 1000],
    ['retries after 1 s on the first failure', { ok: false, consecutiveFailures: 1 }, 1000],
    ['doubles per consecutive failure', { ok: false, consecutiveFailures: 4 }, 8000],
    ['caps the backoff at 30 s', { ok: false, consecutiveFailures: 40 }, 30_000],
    [
      'caps the backoff at the interval when that is shorter',
      { ok: false, consecutiveFailures: 9, refreshMs: 10_000 },
      10_000,
    ],
  ];
  for (const [name, input, delayMs] of cases) {
    it(name, () => assert.equal(nextRefreshDelayMs({ ...base, ...input }), delayMs));
  }
});

describe('parseMaxAgeSec', () => {
  const cases: Array<[header: string | null, maxAgeSec: number | undefined]> = [
    [null, undefined],
    ['no-cache', undefined],
    ['public, max-age=300', 300],
    ['Max-Age="45", must-revalidate', 45],
    ['max-age=-1', undefined],
    ['max-age=abc', undefined],
    ['s-maxage=10', undefined],
  ];
  for (const [header, maxAgeSec] of cases) {
    it(`reads ${JSON.stringify(header)} as ${maxAgeSec}`, () =>
      assert.equal(parseMaxAgeSec(header), maxAgeSec));
  }
});
