import pg from 'pg';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TEST_SERVER_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Every cluster folder of this module starts so: a later run removes the ones a killed run left behind. */
const PREFIX = 'strata-pg-';
/** The programs a private primary and its replica need. */
const PROGRAMS = ['initdb', 'pg_ctl', 'postgres', 'pg_basebackup'];

/** A PostgreSQL cluster of a test's own: a temporary folder, a free port on 127.0.0.1, trust authentication. */
export interface PostgresCluster {
  readonly port: number;
  /** The cluster's URL for one of its databases (as the `postgres` superuser). */
  url(database: string): string;
  /** Stops the cluster (immediate shutdown) and deletes its folder; safe to call twice, and while it is still starting. */
  stop(): Promise<void>;
}

/**
 * The PostgreSQL programs of the test PostgreSQL's major version (`initdb`, `pg_ctl`,
 * `postgres`, `pg_basebackup`); undefined when they are not installed here.
 */
export async function postgresBinaries(): Promise<string | undefined> {
  const [row] = await testServerQuery<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  const bin = `/usr/lib/postgresql/${Math.floor(Number(row?.v ?? 0) / 10_000)}/bin`;
  return PROGRAMS.every((program) => existsSync(join(bin, program))) ? bin : undefined;
}

/** PostgreSQL's programs refuse root: as root, they run as the `postgres` user. */
const AS_POSTGRES = process.getuid?.() === 0;

/** The command and arguments that run `program` of `bin` (through `runuser` as root). */
function invocation(bin: string, program: string, args: readonly string[]): [string, string[]] {
  const path = join(bin, program);
  return AS_POSTGRES ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, [...args]];
}

/** Clusters of this process not stopped yet. */
const live = new Set<ClusterFolder>();

/**
 * A primary of the test's own, so that a base backup copies only what the test puts there
 * (a base backup of the shared test PostgreSQL copies every database beside it, the
 * benches' too). `initdb` into a temporary folder with the test PostgreSQL's encoding,
 * locale and time zone, WAL for a streaming replica, started on a free port. As root, the
 * PostgreSQL programs run as the `postgres` user (they refuse root), in a folder it owns.
 *
 * ```ts
 * const primary = await startPrimaryCluster(bin);
 * try { await new pg.Client(primary.url('postgres')).connect(); } finally { await primary.stop(); }
 * ```
 */
export async function startPrimaryCluster(bin: string): Promise<PostgresCluster> {
  const [like] = await testServerQuery<{ encoding: string; collate: string; ctype: string; zone: string }>(
    `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype, current_setting('TimeZone') AS zone
       FROM pg_database WHERE datname = 'template1'`,
  );
  const cluster = await ClusterFolder.create(bin, 'primary');
  return cluster.start(async () => {
    await cluster.pg('initdb', [
      '-D',
      cluster.data,
      '-U',
      'postgres',
      '--auth=trust',
      `--encoding=${like?.encoding ?? 'UTF8'}`,
      `--lc-collate=${like?.collate ?? 'C.UTF-8'}`,
      `--lc-ctype=${like?.ctype ?? 'C.UTF-8'}`,
      '--no-sync',
    ]);
    await cluster.configure(
      [`timezone = '${like?.zone ?? 'UTC'}'`, 'wal_level = replica', 'max_wal_senders = 4', 'max_connections = 100'],
      'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n',
    );
  });
}

/**
 * A streaming replica of `primary` (a cluster of `startPrimaryCluster`): `pg_basebackup`
 * with WAL streamed, `standby.signal` and `primary_conninfo` written by `-R`, in a temporary
 * folder, started on a free port with hot standby.
 */
export async function startReplicaCluster(bin: string, primary: PostgresCluster): Promise<PostgresCluster> {
  // A standby refuses to start with fewer of these than its primary has.
  const floors = await query<{ name: string; setting: string }>(
    primary.url('postgres'),
    `SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction', 'TimeZone')`,
  );
  const cluster = await ClusterFolder.create(bin, 'replica');
  return cluster.start(async () => {
    await cluster.pg('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      cluster.data,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    await cluster.configure(['hot_standby = on', ...floors.map((f) => `${f.name} = '${f.setting}'`)], 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  });
}

/** A cluster's folder: `data/` (the cluster), its log, and `owner` (the pid of the test process). */
class ClusterFolder implements PostgresCluster {
  readonly data: string;
  private started = false;
  private stopped = false;

  private constructor(
    private readonly bin: string,
    readonly folder: string,
    readonly port: number,
  ) {
    this.data = join(folder, 'data');
  }

  static async create(bin: string, kind: string): Promise<ClusterFolder> {
    removeAbandonedClusters(bin);
    const folder = await mkdtemp(join(tmpdir(), `${PREFIX}${kind}-`));
    await writeFile(join(folder, 'owner'), String(process.pid));
    await mkdir(join(folder, 'data'));
    if (AS_POSTGRES) {
      const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
      for (const path of [folder, join(folder, 'data')]) await chown(path, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
    }
    await chmod(folder, 0o700);
    await chmod(join(folder, 'data'), 0o700);
    const cluster = new ClusterFolder(bin, folder, await freePort());
    live.add(cluster);
    return cluster;
  }

  /** Runs a PostgreSQL program (as `postgres` when this process is root). */
  pg(program: string, args: string[]): Promise<unknown> {
    return run(...invocation(this.bin, program, args));
  }

  /** Writes the cluster's settings after `settings` and its pg_hba.conf (as the `postgres` user, who owns the folder). */
  async configure(settings: string[], hba: string): Promise<void> {
    const common = [
      `listen_addresses = '127.0.0.1'`,
      `port = ${this.port}`,
      `unix_socket_directories = '${this.folder}'`,
      'shared_buffers = 32MB',
      'fsync = off',
      `hba_file = '${join(this.data, 'pg_hba.conf')}'`,
      `ident_file = '${join(this.data, 'pg_ident.conf')}'`,
    ];
    const files: [string, string][] = [
      ['postgresql.conf', `${[...common, ...settings].join('\n')}\n`],
      ['pg_hba.conf', hba],
      ['pg_ident.conf', ''],
    ];
    for (const [name, text] of files) {
      await writeFile(join(this.data, name), text);
      if (AS_POSTGRES) await run('chown', ['postgres:postgres', join(this.data, name)]);
    }
  }

  /** Prepares the folder with `prepare`, starts the cluster and waits until it accepts connections; stops and removes it on any failure. */
  async start(prepare: () => Promise<void>): Promise<this> {
    try {
      await prepare();
      this.started = true;
      await this.pg('pg_ctl', ['-D', this.data, '-l', join(this.folder, 'server.log'), '-w', '-t', '120', 'start']);
      // Stopped meanwhile (the suite's clean-up ran while this was starting): it stops again, now that it runs.
      if (this.stopped) throw new Error('stopped while starting');
      return this;
    } catch (error) {
      const log = await readFile(join(this.folder, 'server.log'), 'utf8').catch(() => '');
      await this.stop();
      throw new Error(`the PostgreSQL cluster in ${this.folder} did not start: ${String(error)}\n${log.slice(-2000)}`);
    }
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    live.delete(this);
    if (this.started) await this.pg('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(this.folder, { recursive: true, force: true });
  }

  /** `stop` for a process about to exit (no promise will be awaited any more). */
  stopNow(): void {
    if (this.started) stopSync(this.bin, this.data);
    rmSync(this.folder, { recursive: true, force: true });
  }
}

// A test process that exits without its clean-up (a failed hook, an interrupted run) stops its clusters on the way out.
process.once('exit', () => {
  for (const cluster of live) cluster.stopNow();
});

/** Stops and removes the clusters of test processes that no longer run (killed before any clean-up could run). */
function removeAbandonedClusters(bin: string): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const folder = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(folder, 'owner'), 'utf8'));
    } catch {
      continue; // Being created, or not one of ours.
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    if (existsSync(join(folder, 'data', 'postmaster.pid'))) stopSync(bin, join(folder, 'data'));
    rmSync(folder, { recursive: true, force: true });
  }
}

function stopSync(bin: string, data: string): void {
  try {
    execFileSync(...invocation(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
  } catch {
    // Not running.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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

function testServerQuery<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
  return query<R>(TEST_SERVER_URL, text);
}

async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}
