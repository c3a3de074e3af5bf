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

const RETRY_AFTER: Readonly<Record<string, string>> = Object.freeze({ 'retry-after': '2' });

/** A ServiceError (ours or a translated Kafka one) as the REST answer clients expect. */
export function fromServiceError(err: ServiceError): RestError {
  switch (err.code as ErrorCode) {
    case 'KAFKA_AUTHZ_FAILED':
      return new RestError(403, 40301, 'Forbidden', { bodyStyle: 'full' });
    case 'KAFKA_AUTH_FAILED':
      return new RestError(403, 40101, 'Forbidden', { bodyStyle: 'full' });
    case 'KAFKA_UNAVAILABLE':
      // Retryable: a broker restarting or failing over is back (or replaced) within seconds.
      return new RestError(503, 503, 'Service unavailable', { headers: RETRY_AFTER });
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
