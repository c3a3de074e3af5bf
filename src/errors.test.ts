import assert from 'node:assert/strict';
import { CODE_INFO, ERROR_CODES, ServiceError } from './errors.ts';

describe('errors', () => {
  it('gives every code an HTTP status and a REST error_code', () => {
    for (const code of ERROR_CODES) {
      assert.ok(CODE_INFO[code], code);
      assert.ok(CODE_INFO[code].http >= 400 && CODE_INFO[code].http < 600, code);
    }
    assert.equal(Object.keys(CODE_INFO).length, ERROR_CODES.length);
  });

  it('answers 401 exactly for authentication failures', () => {
    for (const code of ERROR_CODES) {
      assert.equal(CODE_INFO[code].authentication, CODE_INFO[code].http === 401, code);
    }
    assert.equal(new ServiceError('JWT_EXPIRED', 'x').httpStatus, 401);
  });
});
