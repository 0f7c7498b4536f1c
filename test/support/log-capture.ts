import { pino, type Logger } from 'pino';

/** A pino logger whose JSON lines are kept in memory, parsed, for tests that read what was logged. */
export interface CapturedLog {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  /** The raw text written, to check what never appears in it. */
  text(): string;
}

/** Captures every line at `debug` and above. */
export function captureLog(): CapturedLog {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug', base: undefined },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, text: () => raw.join('') };
}
