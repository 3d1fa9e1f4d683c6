// Structured logs (pino). Keys that could carry secret material are redacted wherever they appear.
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { name: 'certhook' },
    redact: {
      paths: ['data', 'stringData', '*.data', '*.stringData', 'headers.authorization', '*.headers.authorization', 'token', '*.token'],
      censor: '[redacted]',
    },
  }, destination as never);
}
