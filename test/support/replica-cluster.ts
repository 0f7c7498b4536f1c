import pg from 'pg';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A streaming replica of the test PostgreSQL, in a temporary folder, on a port of its own. */
export interface ReplicaCluster {
  readonly port: number;
  /** The replica's URL for a database of the primary. */
  url(database: string): string;
  /** Stops the replica and deletes its folder. */
  stop(): Promise<void>;
}

/** The PostgreSQL programs matching the primary's major version; undefined when they are not installed here. */
export async function postgresBinaries(): Promise<string | undefined> {
  const major = Number((await adminQuery<{ v: string }>("SELECT current_setting('server_version_num') AS v"))[0]?.v ?? 0) / 10_000;
  const bin = `/usr/lib/postgresql/${Math.floor(major)}/bin`;
  return existsSync(join(bin, 'pg_basebackup')) && existsSync(join(bin, 'pg_ctl')) ? bin : undefined;
}

/**
 * Makes the local primary accept streaming replication from 127.0.0.1, idempotently: it
 * needs `wal_level` replica (or logical) and WAL senders (PostgreSQL's defaults), and a
 * `host replication all 127.0.0.1/32 trust` line in pg_hba.conf (added and reloaded when
 * missing; .ci/run does the same before the suite).
 */
export async function allowLocalReplication(): Promise<void> {
  const [settings] = await adminQuery<{ wal_level: string; senders: string; hba: string }>(
    `SELECT current_setting('wal_level') AS wal_level, current_setting('max_wal_senders') AS senders, current_setting('hba_file') AS hba`,
  );
  if (!settings || settings.wal_level === 'minimal' || Number(settings.senders) < 2)
    throw new Error(
      `the primary cannot stream to a replica: wal_level=${settings?.wal_level}, max_wal_senders=${settings?.senders} (set replica and 10, then restart it)`,
    );
  const hba = await readFile(settings.hba, 'utf8');
  if (/^\s*host\s+replication\s+all\s+127\.0\.0\.1\/32\s+trust\s*$/m.test(hba)) return;
  await appendFile(
    settings.hba,
    '\n# streaming replicas of the Strata test suite (test/support/replica-cluster.ts)\nhost replication all 127.0.0.1/32 trust\n',
  );
  await adminQuery('SELECT pg_reload_conf()');
}

/**
 * Creates a replica with `pg_basebackup` (WAL streamed, `standby.signal` and
 * `primary_conninfo` written by `-R`) in a temporary folder, starts it on a free port, and
 * waits until it accepts connections. As root, the PostgreSQL programs run as `postgres`.
 */
export async function startReplicaCluster(bin: string): Promise<ReplicaCluster> {
  await allowLocalReplication();
  const primary = new URL(ADMIN_URL);
  const folder = await mkdtemp(join(tmpdir(), 'strata-replica-'));
  const data = join(folder, 'data');
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    await chown(folder, Number(stdout.trim()), Number(group.trim()));
  }
  await chmod(folder, 0o700);
  const pgRun = (program: string, args: string[]) =>
    asPostgres ? run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args]) : run(join(bin, program), args);
  const port = await freePort();
  // A standby refuses to start with fewer of these than its primary has.
  const floors = await adminQuery<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')`,
  );
  let started = false;
  try {
    await pgRun('pg_basebackup', [
      '-h',
      primary.hostname,
      '-p',
      primary.port || '5432',
      '-U',
      primary.username || 'postgres',
      '-D',
      data,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    const settings = [
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '${folder}'`,
      'hot_standby = on',
      ...floors.map((f) => `${f.name} = ${f.setting}`),
      'shared_buffers = 32MB',
      'fsync = off',
      `hba_file = '${join(data, 'pg_hba.conf')}'`,
      `ident_file = '${join(data, 'pg_ident.conf')}'`,
    ];
    await writeFile(join(data, 'postgresql.conf'), `${settings.join('\n')}\n`);
    await writeFile(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    await writeFile(join(data, 'pg_ident.conf'), '');
    if (asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: group } = await run('id', ['-g', 'postgres']);
      for (const file of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) await chown(join(data, file), Number(stdout.trim()), Number(group.trim()));
    }
    await pgRun('pg_ctl', ['-D', data, '-l', join(folder, 'replica.log'), '-w', '-t', '60', 'start']);
    started = true;
  } catch (error) {
    const log = await readFile(join(folder, 'replica.log'), 'utf8').catch(() => '');
    await rm(folder, { recursive: true, force: true });
    throw new Error(`the replica did not start: ${String(error)}\n${log.slice(-2000)}`);
  }
  return {
    port,
    url: (database) => `postgres://${primary.username || 'postgres'}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (started) await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(folder, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function adminQuery<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}
