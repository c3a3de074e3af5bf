import pino, { type Logger } from 'pino';

/** JSON lines on stdout. Tokens and secrets never reach a log: callers log token hashes. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['authorization', 'headers.authorization', 'token', 'password', 'secret'],
      censor: '[redacted]',
    },
  });
}
