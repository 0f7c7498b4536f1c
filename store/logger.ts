import { pino } from 'pino';

/** The levels `LOG_LEVEL` accepts, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The process logger: JSON lines on stderr, at `info` until the CLI applies the validated
 * `LOG_LEVEL` (api/config.ts) with `setLogLevel`; test runs make it silent (test/support/quiet-logs.ts).
 */
export const logger = pino({ level: 'info', base: undefined }, pino.destination(2));

/** Sets the least severe level written. */
export function setLogLevel(level: LogLevel): void {
  logger.level = level;
}
