import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Checker, passes } from '../check/check.ts';
import { type ErrorAnswer, errorAnswer } from '../errors.ts';
import { authorizationValues, CLIENT_ADDRESS_HEADER } from '../routes/raw-headers.ts';
import { mapRoute } from '../routes/route-map.ts';

/**
 * The same decision over plain HTTP, for proxies that authorize with a sub-request: Envoy's
 * HTTP ext_authz, nginx `auth_request`, Traefik `forwardAuth`. Also the Kubernetes probes.
 *
 *   /auth     200 + principal header = allow; 401/403 (JSON body, WWW-Authenticate) = deny
 *   /healthz  200 while the process runs
 *   /readyz   200 once every issuer's keys were fetched once and the ACL file loaded
 */

function firstHeader(req: IncomingMessage, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(body);
}

function sendAnswer(res: ServerResponse, answer: ErrorAnswer): void {
  res.writeHead(answer.status, [...answer.headers, ['cache-control', 'no-store']].flat());
  res.end(answer.body);
}

const PROXY_MISCONFIGURED = errorAnswer(
  'REQUEST_INVALID',
  'expected X-Forwarded-Method and X-Forwarded-Uri (or X-Original-Method and X-Original-URI)',
);

export interface HttpAuthOptions {
  readonly principalHeader: string;
  readonly ready: () => boolean;
}

export function createAuthHttpServer(checker: Checker, options: HttpAuthOptions): Server {
  const { principalHeader } = options;
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/healthz') return send(res, 200, '{"status":"ok"}');
    if (path === '/readyz') {
      return options.ready()
        ? send(res, 200, '{"status":"ready"}')
        : send(res, 503, '{"status":"not ready"}');
    }
    if (path !== '/auth') return sendAnswer(res, errorAnswer('ROUTE_UNKNOWN'));
    const method = firstHeader(req, 'x-forwarded-method', 'x-original-method');
    const uri = firstHeader(req, 'x-forwarded-uri', 'x-original-uri');
    if (method === undefined || uri === undefined) {
      // Fail closed on a misconfigured proxy rather than guessing the request.
      return sendAnswer(res, PROXY_MISCONFIGURED);
    }
    // The peer is the proxy asking; the address it checked travels back like the principal.
    const host = req.socket.remoteAddress;
    const request = {
      route: mapRoute(method, uri),
      method,
      path: uri,
      authorization: authorizationValues(req.rawHeaders),
      host,
    };
    checker.check(request, { transport: 'http', requestId: firstHeader(req, 'x-request-id') }).then(
      (outcome) => {
        if (passes(outcome)) {
          const headers: Record<string, string> = {
            [principalHeader]: outcome.principal ?? '',
            'cache-control': 'no-store',
          };
          if (outcome.principal !== null && host !== undefined) headers[CLIENT_ADDRESS_HEADER] = host;
          res.writeHead(200, headers);
          res.end();
          return;
        }
        sendAnswer(res, errorAnswer(outcome.code ?? 'INTERNAL', outcome.detail));
      },
      // Unreachable (check never rejects): fail closed all the same.
      () => sendAnswer(res, errorAnswer('INTERNAL')),
    );
  });
}
