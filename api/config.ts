import { z } from 'zod';

const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z.string().url().optional(),
  STRATA_DATA_DIR: z.string().min(1).default('.strata-data'),
  STRATA_DEV: z
    .enum(['0', '1', 'true', 'false'])
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  STRATA_MAX_ROWS: z.coerce.number().int().positive().default(100_000),
  STRATA_MAX_BODY_BYTES: z.coerce.number().int().positive().default(2 * 1024 * 1024),
});

export interface ServerConfig {
  readonly port: number;
  /** PostgreSQL connection string; unset means embedded PGlite. */
  readonly databaseUrl: string | undefined;
  /** PGlite data folder (`memory://` keeps everything in memory). */
  readonly dataDir: string;
  /** Development mode: metric results include the SQL that ran. */
  readonly dev: boolean;
  /** Largest number of rows a metric query may return. */
  readonly maxRows: number;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
}

/** Reads the server configuration from the environment; throws one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    dataDir: c.STRATA_DATA_DIR,
    dev: c.STRATA_DEV,
    maxRows: c.STRATA_MAX_ROWS,
    maxBodyBytes: c.STRATA_MAX_BODY_BYTES,
  };
}
