import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AuthzService } from './authz-service.ts';
import { denialFor } from './denial.ts';

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

/** Authorization values as sent: Node joins repeats with ", ", rawHeaders keeps them apart. */
function authorizationValues(req: IncomingMessage): string[] | undefined {
  let values: string[] | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 13 || raw[i]!.toLowerCase() !== 'authorization') continue;
    values ??= [];
    values.push(raw[i + 1]!);
  }
  return values;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export interface HttpAuthOptions {
  readonly principalHeader: string;
  readonly ready: () => boolean;
}

export function createAuthHttpServer(service: AuthzService, options: HttpAuthOptions): Server {
  const { principalHeader } = options;
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/healthz') return send(res, 200, '{"status":"ok"}');
    if (path === '/readyz') {
      return options.ready()
        ? send(res, 200, '{"status":"ready"}')
        : send(res, 503, '{"status":"not ready"}');
    }
    if (path !== '/auth') return send(res, 404, '{"error_code":404,"message":"HTTP 404 Not Found"}');
    const method = firstHeader(req, 'x-forwarded-method', 'x-original-method');
    const uri = firstHeader(req, 'x-forwarded-uri', 'x-original-uri');
    if (method === undefined || uri === undefined) {
      // Fail closed on a misconfigured proxy rather than guessing the request.
      return send(
        res,
        400,
        '{"error_code":400,"message":"expected X-Forwarded-Method and X-Forwarded-Uri (or X-Original-Method and X-Original-URI)"}',
      );
    }
    const input = {
      method,
      path: uri,
      authorization: authorizationValues(req),
      host: req.socket.remoteAddress,
    };
    service.decide(input, 'http', firstHeader(req, 'x-request-id')).then(
      (outcome) => {
        if (outcome.allow) {
          res.writeHead(200, { [principalHeader]: outcome.principal ?? '', 'cache-control': 'no-store' });
          res.end();
          return;
        }
        const denial = denialFor(outcome);
        res.writeHead(denial.status, Object.fromEntries(denial.headers));
        res.end(denial.body);
      },
      () => send(res, 500, '{"error_code":500,"message":"Internal server error"}'),
    );
  });
}
