import type { AuthenticationProviderArgs, Authenticator, Mechanism } from 'kafkajs';
import kafkajs from 'kafkajs';

/**
 * SASL/OAUTHBEARER for kafkajs that reads the broker's answer (issue 11).
 *
 * kafkajs 2.2.4's own OAUTHBEARER sends the token and ignores the reply. When
 * the broker refuses the token it replies with an RFC 7628 §3.2.2 error
 * challenge (`{"status":"invalid_token"}`) and waits for the client's %x01;
 * kafkajs sends its next request instead and the broker drops the connection,
 * which reached callers as "Kafka unavailable". Here the challenge is read,
 * the exchange is finished with %x01 as the RFC asks, and the refusal
 * surfaces as a KafkaJSSASLAuthenticationError marked `tokenRejected`, with
 * the broker's status and message.
 */

const SOH = '\u0001';

// Typed without a constructor argument in kafkajs's .d.ts; at run time it takes the message.
const SaslAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (
  message: string,
) => Error;

/** The refusal as the session sees it; `brokerReason` is safe to log (no token). */
export interface TokenRejection {
  readonly tokenRejected: true;
  readonly brokerReason: string;
}

export function isTokenRejection(err: unknown): err is Error & TokenRejection {
  return (
    typeof err === 'object' && err !== null && (err as { tokenRejected?: unknown }).tokenRejected === true
  );
}

/** The OAUTHBEARER mechanism for a kafkajs client; `tokenProvider` is called at every (re)authentication. */
export function createOauthBearerMechanism(tokenProvider: () => Promise<{ value: string }>): Mechanism {
  return {
    mechanism: 'oauthbearer',
    authenticationProvider: (args) => createAuthenticator(args, tokenProvider),
  };
}

function createAuthenticator(
  { saslAuthenticate }: AuthenticationProviderArgs,
  tokenProvider: () => Promise<{ value: string }>,
): Authenticator {
  return {
    authenticate: async () => {
      let value: string;
      try {
        ({ value } = await tokenProvider());
      } catch (err) {
        // As kafkajs's own mechanism does: no token is a non-retriable authentication failure.
        throw new SaslAuthenticationError(`SASL OAUTHBEARER: no token to send (${(err as Error).message})`);
      }
      // RFC 7628 §3.1 client initial response: gs2 header, auth=Bearer, two SOHs.
      const initial = `n,,${SOH}auth=Bearer ${value}${SOH}${SOH}`;
      const challenge = await saslAuthenticate<Buffer>({
        request: bytesRequest(initial),
        response: RAW_RESPONSE,
      });
      if (challenge === undefined || challenge.length === 0) return;
      const status = readStatus(challenge);
      let brokerMessage = '';
      try {
        // The broker fails this second round with SASL_AUTHENTICATION_FAILED and its message.
        await saslAuthenticate<Buffer>({ request: bytesRequest(SOH), response: RAW_RESPONSE });
      } catch (err) {
        brokerMessage = (err as Error).message ?? '';
      }
      const reason = `status ${status}${brokerMessage ? `: ${brokerMessage}` : ''}`;
      const error = new SaslAuthenticationError(
        `SASL OAUTHBEARER: the broker refused the token (${reason})`,
      ) as Error & TokenRejection;
      Object.assign(error, { tokenRejected: true, brokerReason: reason });
      throw error;
    },
  };
}

// kafkajs wraps request bytes in a length-prefixed BYTES field and hands
// responses back the same way (see its built-in mechanisms).
function bytesRequest(text: string) {
  const payload = Buffer.from(text, 'utf8');
  const framed = Buffer.alloc(4 + payload.length);
  framed.writeInt32BE(payload.length, 0);
  payload.copy(framed, 4);
  return { encode: () => framed };
}

const RAW_RESPONSE = {
  decode: (raw: Buffer) => {
    if (raw.length < 4) return Buffer.alloc(0);
    const length = raw.readInt32BE(0);
    return length <= 0 ? Buffer.alloc(0) : raw.subarray(4, 4 + length);
  },
  parse: (data: Buffer) => data,
};

// The challenge is JSON like {"status":"invalid_token","scope":"...","openid-configuration":"..."}.
function readStatus(challenge: Buffer): string {
  try {
    const parsed = JSON.parse(challenge.toString('utf8')) as { status?: unknown };
    if (typeof parsed.status === 'string' && /^[\w.-]{1,64}$/.test(parsed.status)) return parsed.status;
  } catch {
    // Not JSON: still a refusal.
  }
  return 'unknown';
}
