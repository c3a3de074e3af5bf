import { CODE_INFO, type ErrorCode, ServiceError } from '../errors.ts';

/**
 * An answer of the REST contract that is not a success: HTTP status, the body's `error_code`
 * and message (reference section 4). `bodyStyle: 'message'` gives Karapace's `{"message": ...}`
 * shape used by its 401/403 answers.
 */
export class RestError extends Error {
  readonly status: number;
  readonly errorCode: number;
  readonly bodyStyle: 'full' | 'message';
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    errorCode: number,
    message: string,
    options: { bodyStyle?: 'full' | 'message'; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'RestError';
    this.status = status;
    this.errorCode = errorCode;
    this.bodyStyle = options.bodyStyle ?? 'full';
    this.headers = options.headers ?? {};
  }

  body(): Record<string, unknown> {
    return this.bodyStyle === 'message'
      ? { message: this.message }
      : { error_code: this.errorCode, message: this.message };
  }
}

export const badRequest = (message: string) => new RestError(400, 400, message);
export const unprocessable = (message: string, errorCode = 422) => new RestError(422, errorCode, message);
export const serverError = (message: string, errorCode = 500) => new RestError(500, errorCode, message);

/** A ServiceError (ours or a translated Kafka one) as the REST answer clients expect. */
export function fromServiceError(err: ServiceError): RestError {
  switch (err.code as ErrorCode) {
    case 'KAFKA_AUTHZ_FAILED':
      return new RestError(403, 40301, 'Forbidden', { bodyStyle: 'full' });
    case 'KAFKA_AUTH_FAILED':
      return new RestError(403, 40101, 'Forbidden', { bodyStyle: 'full' });
    case 'KAFKA_TOKEN_REJECTED':
      // RFC 6750 §3: the token is the problem; a client should get a new one, not retry.
      return new RestError(401, 40101, 'Kafka refused the access token', {
        bodyStyle: 'message',
        headers: {
          'www-authenticate':
            'Bearer realm="kafka-rest", error="invalid_token", error_description="Kafka refused the access token"',
        },
      });
    case 'KAFKA_UNAVAILABLE':
      return new RestError(503, 503, 'Service unavailable');
    case 'KAFKA_ERROR':
      return new RestError(500, 50002, `Kafka error: ${err.message}`);
    default: {
      const info = CODE_INFO[err.code];
      return new RestError(info.http, info.restCode, err.message);
    }
  }
}

export function isServiceErrorLike(err: unknown): err is ServiceError {
  return err instanceof ServiceError;
}
