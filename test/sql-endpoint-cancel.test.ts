import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import pg from 'pg';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { holdDatabase } from './support/hold-database.ts';
import { captureLog } from './support/log-capture.ts';

const psqlReady = spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;
if (process.env.CI && !psqlReady) throw new Error('CI needs psql (.ci/run installs it)');

const METRIC_SQL = 'SELECT customer__risk_level, MEASURE(purchase_amount) AS amount FROM transaction GROUP BY 1 ORDER BY 1';
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/**
 * node-postgres's own cancellation (`Client#cancel`, untyped in @types/pg): a new connection
 * that sends a CancelRequest with `client`'s process id and secret key (BackendKeyData).
 */
function sendCancel(port: number, client: pg.Client, query: pg.Query): void {
  (new pg.Client({ host: '127.0.0.1', port }) as unknown as { cancel(client: pg.Client, query: pg.Query): void }).cancel(client, query);
}

/** Waits until `condition` holds (the suite's timeout bounds the wait). */
async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
}

/**
 * psql running one statement; `interrupt()` is Ctrl-C, on which psql sends a CancelRequest
 * with the key the server gave it at startup (BackendKeyData).
 */
function startPsql(port: number, key: string, sql: string) {
  const child = spawn('psql', ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'bi', '-d', 'strata', '-c', sql], {
    env: { ...process.env, PGPASSWORD: key },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { interrupt: () => child.kill('SIGINT'), exited };
}

await describeEachEngine(
  'SQL cancel requests on %s',
  (engine) => {
    let server: DemoServer<'admin'>;
    let port: number;
    const log = captureLog();

    beforeAll(async () => {
      server = await startDemoServer(engine, { customers: 300, seed: 7, keys: { admin: ['cancel-admin', 'admin'] }, app: { logger: log.logger } });
      port = await server.app.listenSql(0);
      // A first session starts what sessions share (the catalog mirror, the semantic layer with its tags), so a
      // held database blocks nothing but the statement under test.
      const warm = new pg.Client({ host: '127.0.0.1', port, user: 'bi', password: server.keys.admin, database: 'strata' });
      await warm.connect();
      await warm.query(METRIC_SQL);
      await warm.end();
    }, 240_000);

    afterAll(async () => {
      await server?.close();
    });

    const auditedCancels = () => log.lines.filter((l) => l.msg === 'sql statement' && l.cancelled === true).length;

    if (engine === 'postgres') {
      it('stops the running statement in PostgreSQL: psql gets 57014 and the backend is idle afterwards', async () => {
        const monitor = new pg.Client({ connectionString: server.database.url });
        await monitor.connect();
        // A transaction holding the facts table's lock keeps the metric statement running in
        // the database (waiting for the lock) for as long as it is not cancelled.
        const lock = new pg.Client({ connectionString: server.database.url });
        await lock.connect();
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE wealth.transactions IN ACCESS EXCLUSIVE MODE');
        const analyticsBackends = async () =>
          (
            await monitor.query<{ pid: number; state: string; wait_event_type: string | null }>(
              `SELECT pid, state, wait_event_type FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strata-analytics'`,
            )
          ).rows;
        try {
          const psql = startPsql(port, server.keys.admin, METRIC_SQL);
          await until(async () => (await analyticsBackends()).some((b) => b.state === 'active' && b.wait_event_type === 'Lock'));
          const before = auditedCancels();
          psql.interrupt();
          const { code, stderr } = await psql.exited;
          expect(stderr).toContain('canceling statement due to user request');
          expect(code).not.toBe(0);
          // The answer came once PostgreSQL had stopped the statement: no analytics backend runs it any more.
          expect((await analyticsBackends()).filter((b) => b.state !== 'idle')).toEqual([]);
          expect(auditedCancels()).toBe(before + 1);
          // The lock is still held by its own transaction: the statement was cancelled, not granted.
          const locks = await monitor.query(
            `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'transactions' AND l.mode = 'AccessExclusiveLock' AND l.granted`,
          );
          expect(locks.rows).toHaveLength(1);
        } finally {
          await lock.query('COMMIT');
          await lock.end();
          await monitor.end();
        }
        // The same session and a new one answer afterwards.
        const c = new pg.Client({ host: '127.0.0.1', port, user: 'bi', password: server.keys.admin, database: 'strata', types: TEXT_TYPES });
        await c.connect();
        try {
          expect((await c.query(METRIC_SQL)).rows.length).toBeGreaterThan(1);
        } finally {
          await c.end();
        }
      }, 120_000);

      it('answers 57014 with node-postgres cancellation (the CancelRequest pg sends) and keeps the session usable', async () => {
        const lock = new pg.Client({ connectionString: server.database.url });
        await lock.connect();
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE wealth.transactions IN ACCESS EXCLUSIVE MODE');
        const c = new pg.Client({ host: '127.0.0.1', port, user: 'bi', password: server.keys.admin, database: 'strata', types: TEXT_TYPES });
        await c.connect();
        try {
          const query = new pg.Query(METRIC_SQL);
          const failed = new Promise<{ code?: string; message: string }>((resolve) => query.on('error', resolve));
          c.query(query);
          await until(async () => {
            const { rows } = await lock.query(
              `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'strata-analytics' AND wait_event_type = 'Lock'`,
            );
            return rows.length > 0;
          });
          // node-postgres's own cancellation: a CancelRequest with c's process id and secret key.
          sendCancel(port, c, query);
          const error = await failed;
          expect([error.code, error.message]).toEqual(['57014', 'canceling statement due to user request']);
          await lock.query('COMMIT');
          expect((await c.query('SELECT customer__risk_level FROM transaction GROUP BY 1 ORDER BY 1')).rows.length).toBeGreaterThan(1);
        } finally {
          await lock.query('ROLLBACK').catch(() => undefined);
          await lock.end();
          await c.end();
        }
      }, 120_000);
    } else {
      it('answers at once on PGlite while the statement waits for the one connection, and frees its analytics slot', async () => {
        const c = new pg.Client({ host: '127.0.0.1', port, user: 'bi', password: server.keys.admin, database: 'strata', types: TEXT_TYPES });
        await c.connect();
        // The transaction holds PGlite's one connection: the metric statement waits for it, not yet in the database.
        const hold = await holdDatabase('pglite', server.database);
        let released = false;
        try {
          const query = new pg.Query(METRIC_SQL);
          const failed = new Promise<{ code?: string; message: string }>((resolve) => query.on('error', resolve));
          c.query(query);
          await until(() => server.app.analytics.load().running > 0);
          const before = auditedCancels();
          sendCancel(port, c, query);
          const error = await failed;
          expect([error.code, error.message]).toEqual(['57014', 'canceling statement due to user request']);
          expect(auditedCancels()).toBe(before + 1);
          await hold.release();
          released = true;
          // The cancelled work gives its analytics slot back without running its statement; the session goes on.
          await until(() => server.app.analytics.load().running === 0);
          expect((await c.query(METRIC_SQL)).rows.length).toBeGreaterThan(1);
        } finally {
          if (!released) await hold.release();
          await c.end();
        }
      }, 120_000);
    }
  },
  { skipIf: !psqlReady },
);
