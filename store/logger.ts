import { pino } from 'pino';

/** The process logger: JSON lines on stderr; `LOG_LEVEL` sets the level (silent in tests). */
export const logger = pino(
  { level: process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'), base: undefined },
  pino.destination(2),
);
