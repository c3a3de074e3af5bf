/**
 * Reading request headers as they were sent, shared by the gate's HTTP front end and the REST
 * process. Node's `req.headers` keeps only the first of two `Authorization` headers (it joins
 * some repeats and drops others), so a request with two tokens would be judged on one; the raw
 * list keeps every occurrence, and the bearer extraction refuses more than one.
 */

/**
 * The header the gate sets on an allowed request (overwriting any copy) with the client address
 * it checked: the downstream address Envoy saw (with `use_remote_address: true`, the peer of
 * Envoy's listener, not a client-sent X-Forwarded-For). Envoy drops a client-sent copy before
 * ext_authz runs. The REST process is reachable only through Envoy (it listens on loopback), so
 * it takes the address from here; without it, the socket peer (Envoy's loopback address) is the
 * host, which fails closed for ACL rules bound to a client host.
 */
export const CLIENT_ADDRESS_HEADER = 'x-tollgate-client-address';

/** Every value of header `name` (lower-case), in order; undefined when absent. */
export function rawHeaderValues(rawHeaders: readonly string[], name: string): string[] | undefined {
  let values: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!;
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    values ??= [];
    values.push(rawHeaders[i + 1]!);
  }
  return values;
}

/** The Authorization values as sent (two headers stay two, so the check can refuse them). */
export function authorizationValues(rawHeaders: readonly string[]): string[] | undefined {
  return rawHeaderValues(rawHeaders, 'authorization');
}

/**
 * The client address the gate checked, from its header; `socketAddress` when absent.
 * Fail closed: two copies (never sent by the gate) are not guessed between.
 */
export function clientAddress(
  rawHeaders: readonly string[],
  socketAddress: string | undefined,
): string | undefined {
  const values = rawHeaderValues(rawHeaders, CLIENT_ADDRESS_HEADER);
  if (values === undefined) return socketAddress;
  return values.length === 1 && values[0] !== '' ? values[0] : socketAddress;
}
