import { existsSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { LOCK_FILE } from '../store/data-folder-lock.ts';
import { claimDataFolder, cliConfig, pgliteFolder } from './cli-database.ts';

/**
 * `strata reset`: deletes the embedded PGlite data folder, so the next `npm start` creates,
 * seeds and materializes a new one. Asks first unless `--yes`: only `y` or `yes` deletes
 * (an empty answer or the end of input keeps everything). Refused with DATABASE_URL (a PostgreSQL database is not
 * Strata's to drop), while another process holds the folder, and for a folder that does
 * not look like a PGlite one (a mistyped STRATA_DATA_DIR must not delete a home folder).
 */
export async function runReset(options: { yes?: boolean }): Promise<void> {
  const config = cliConfig();
  if (config.databaseUrl) {
    throw new Error(
      'reset deletes only the embedded PGlite data folder, and DATABASE_URL is set: to start over on PostgreSQL, drop and recreate that database yourself',
    );
  }
  const folder = pgliteFolder(config);
  if (!folder) return console.log(`nothing to reset: STRATA_DATA_DIR is ${config.dataDir}, which lives only as long as its process`);
  const path = resolve(folder);
  if (!existsSync(path)) return console.log(`nothing to reset: there is no data folder at ${path}`);
  const lock = claimDataFolder(config, 'reset');
  try {
    const entries = readdirSync(path).filter((name) => name !== LOCK_FILE);
    if (entries.length > 0 && !entries.includes('PG_VERSION')) {
      throw new Error(`${path} does not look like a PGlite data folder (no PG_VERSION): not deleting it; check STRATA_DATA_DIR`);
    }
    if (!options.yes && !(await confirm(`Delete ${path} and everything in it (demo data, tags, keys, events)? Type "yes" to confirm: `))) {
      throw new Error('reset cancelled: nothing was deleted');
    }
    rmSync(path, { recursive: true, force: true });
    console.log(`deleted ${path}; \`npm start\` creates and seeds a new one`);
  } finally {
    lock?.release();
  }
}

/** Asks on stdin; true only for `y` or `yes`. The end of input (no terminal, Ctrl-D) is a no. */
async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const ended = new Promise<null>((done) => prompt.once('close', () => done(null)));
  try {
    const answer = await Promise.race([prompt.question(question), ended]);
    if (answer === null) process.stdout.write('\n');
    return answer !== null && /^(y|yes)$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
