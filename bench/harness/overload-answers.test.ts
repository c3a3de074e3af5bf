import assert from 'node:assert/strict';
import { classifyAnswers, everyAnswerExplained } from './overload-answers.ts';

describe('classifyAnswers', () => {
  it('counts DeadlineExceeded and Unavailable as explicit refusals', () => {
    const classes = classifyAnswers({
      allows: 90,
      denies: 0,
      errorKinds: { DeadlineExceeded: 7, Unavailable: 3 },
    });
    assert.deepEqual(classes, {
      calls: 100,
      allowed: 90,
      wrong: 0,
      refused: { DeadlineExceeded: 7, Unavailable: 3 },
      unexplained: {},
    });
    assert.equal(everyAnswerExplained(classes), true);
  });

  it('counts Internal (a connection torn down under the calls) as unexplained, which fails the run', () => {
    const classes = classifyAnswers({ allows: 10, denies: 0, errorKinds: { Internal: 69, Unavailable: 1 } });
    assert.deepEqual(classes.unexplained, { Internal: 69 });
    assert.equal(classes.calls, 80);
    assert.equal(everyAnswerExplained(classes), false);
  });

  it('fails a run with a wrong verdict even when nothing else went wrong', () => {
    assert.equal(everyAnswerExplained(classifyAnswers({ allows: 10, denies: 1, errorKinds: {} })), false);
  });
});
