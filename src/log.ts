// Structured logs (pino). Keys that could carry secret material are redacted wherever they appear.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const REDACT = {
  paths: ['data', 'stringData', '*.data', '*.stringData', 'headers.authorization', '*.headers.authorization', 'token', '*.token'],
  censor: '[redacted]',
};

/**
 * A JSON logger: one object a line, with the level's name and an ISO-8601 time, so that people
 * and log pipelines read the same thing.
 */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({
    ...baseOptions(level),
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, destination as never);
}

/**
 * The command line's logger: JSON, or `text` — one readable line an entry, its fields after the
 * message — for a terminal. The text formatter is loaded only when asked for.
 */
export async function createCliLogger(level: LogLevel, format: LogFormat): Promise<Logger> {
  if (format === 'json') return createLogger(level);
  const { prettyFactory } = await import('pino-pretty');
  // pino-pretty reads pino's own numeric levels and epoch times, and prints them as a name and UTC.
  // certhook logs an error as its message (`err`), which stays on the entry's line; the factory,
  // unlike pino-pretty's stream, does not learn from pino that `err` is an error to set apart.
  const prettify = prettyFactory({ singleLine: true, colorize: false, ignore: 'name', errorLikeObjectKeys: [], translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'" });
  const stream: DestinationStream = { write: (line: string) => void process.stdout.write(prettify(line)) };
  return pino(baseOptions(level), stream);
}

function baseOptions(level: LogLevel): LoggerOptions {
  return { level, base: { name: 'certhook' }, redact: REDACT };
}
