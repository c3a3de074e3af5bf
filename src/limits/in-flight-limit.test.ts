import assert from 'node:assert/strict';
import { InFlightLimit, isPastDeadline } from './in-flight-limit.ts';

describe('InFlightLimit', () => {
  it('admits up to the limit and refuses the next one', () => {
    const limit = new InFlightLimit(2);
    assert.equal(limit.tryAcquire(), true);
    assert.equal(limit.tryAcquire(), true);
    assert.equal(limit.tryAcquire(), false);
    assert.equal(limit.inFlight, 2);
  });

  it('admits again once a slot is released', () => {
    const limit = new InFlightLimit(1);
    assert.equal(limit.tryAcquire(), true);
    assert.equal(limit.tryAcquire(), false);
    limit.release();
    assert.equal(limit.tryAcquire(), true);
  });

  it('never counts below zero, so an extra release opens no room beyond the limit', () => {
    const limit = new InFlightLimit(1);
    limit.release();
    assert.equal(limit.tryAcquire(), true);
    assert.equal(limit.tryAcquire(), false);
  });

  it('has no limit at 0', () => {
    const limit = new InFlightLimit(0);
    for (let i = 0; i < 10000; i++) assert.equal(limit.tryAcquire(), true);
  });

  it('refuses a negative or fractional limit', () => {
    assert.throws(() => new InFlightLimit(-1), RangeError);
    assert.throws(() => new InFlightLimit(1.5), RangeError);
  });
});

describe('isPastDeadline', () => {
  const NOW = 1_800_000_000_000;
  const rows: ReadonlyArray<[string, Date | number, boolean]> = [
    ['a deadline in the past (Date)', new Date(NOW - 1), true],
    ['a deadline now', NOW, true],
    ['a deadline in the future', NOW + 1, false],
    ['no deadline (Infinity)', Number.POSITIVE_INFINITY, false],
  ];
  for (const [name, deadline, expected] of rows) {
    it(`says ${expected} for ${name}`, () => assert.equal(isPastDeadline(deadline, NOW), expected));
  }
});
