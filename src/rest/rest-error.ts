import { CODE_INFO, type ErrorCode, errorAnswer } from '../errors.ts';
import { SUCCESS_TYPE } from './respond.ts';

/**
 * How the REST process renders a coded error (reference sections 2.3 and 4): the catalogue's
 * status, `error_code` and message (the code's detail policy decides whether the thrown message
 * is shown), the challenge header on 401s, and the content type the contract names for it.
 * Handlers throw `ServiceError`s; nothing else builds an error body.
 */

export interface RestErrorAnswer {
  readonly status: number;
  readonly contentType: string;
  /** Headers beyond the content type (WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The 401, the credential-rejected 403, the 413 and the catch-all 500 are plain JSON. */
function contentTypeFor(status: number): string {
  return status === 401 || status === 403 || status === 413 || status === 500
    ? 'application/json'
    : SUCCESS_TYPE;
}

export function renderRestError(code: ErrorCode, message: string | null): RestErrorAnswer {
  const answer = errorAnswer(code, message);
  const headers: Record<string, string> = {};
  for (const [name, value] of answer.headers) if (name !== 'content-type') headers[name] = value;
  return {
    status: CODE_INFO[code].http,
    contentType: contentTypeFor(answer.status),
    headers,
    body: answer.body,
  };
}
