import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorAnswer } from '../errors.ts';

/**
 * The REST process's answer to a request refused for overload (rest.maxInFlightRequests):
 * 503 with Retry-After and the contract's JSON error body, written before the request's body
 * is parsed or its token checked, so a refusal costs next to nothing. The body is still
 * drained, unparsed: a proxy (Envoy) still sending it would otherwise see the early answer and
 * a closed stream as an upstream reset, and answer its own 503 without Retry-After.
 */

const ANSWER = errorAnswer('OVERLOADED');
const BODY_LENGTH = String(Buffer.byteLength(ANSWER.body));

export function refuseOverloaded(req: IncomingMessage, res: ServerResponse, retryAfterSec: number): void {
  req.resume();
  res.writeHead(ANSWER.status, {
    'content-type': 'application/json',
    'content-length': BODY_LENGTH,
    'retry-after': String(retryAfterSec),
    'access-control-allow-origin': '*',
  });
  res.end(ANSWER.body);
}
