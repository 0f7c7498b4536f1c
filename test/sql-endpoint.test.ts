import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { BI_TOOL_QUERIES } from './support/bi-tool-queries.ts';
import { createApp } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { DEFAULT_RATE_LIMITS } from '../api/rate-limiter.ts';
import * as wire from '../api/sql-endpoint/wire.ts';
import { captureLog } from './support/log-capture.ts';

type Keys = 'analyst' | 'admin' | 'app';

/** Every value as PostgreSQL's text, so answers compare exactly as sent. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/** Debian's Python with python3-psycopg2 and python3-sqlalchemy (.ci/run installs them). */
const PYTHON = '/usr/bin/python3';
const pythonReady = spawnSync(PYTHON, ['-c', 'import psycopg2, sqlalchemy'], { stdio: 'ignore' }).status === 0;
const psqlReady = spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;
if (process.env.CI && !(pythonReady && psqlReady)) throw new Error('CI needs psql, python3-psycopg2 and python3-sqlalchemy (.ci/run installs them)');

/** Runs a client program without blocking this process (which serves the endpoint). */
function runProgram(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 60_000 }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
  });
}

const METRICS_QUERY = `query ($q: MetricQueryInput!) { metrics(query: $q) { columns { name } rows suppressedRows } }`;

await describeEachEngine('SQL for BI tools on %s', (engine) => {
  let server: DemoServer<Keys>;
  let port: number;
  const log = captureLog();
  const { ok } = graphqlClient(() => server.base);

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 1500,
      seed: 22,
      keys: { analyst: ['bi-analyst', 'analyst'], admin: ['bi-admin', 'admin'], app: ['bi-app', 'app'] },
      app: { authFailureLimit: 0, logger: log.logger },
    });
    port = await server.app.listenSql(0);
  }, 240_000);

  afterAll(async () => {
    await server?.close();
  });

  const client = async (key: Keys | string, options: Partial<pg.ClientConfig> = {}) => {
    const password = key in (server.keys as Record<string, string>) ? server.keys[key as Keys] : key;
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'bi', password, database: 'strata', types: TEXT_TYPES, ...options });
    await c.connect();
    return c;
  };

  /** The same question through GraphQL `metrics`, rows keyed by its column names. */
  const graphql = async (key: Keys, query: Record<string, unknown>) =>
    (await ok(server.keys[key], METRICS_QUERY, { q: query })).metrics as { rows: Record<string, unknown>[]; suppressedRows: number[] };

  /** SQL text rows as GraphQL would show them: metric columns as numbers (null stays null). */
  const asGraphql = (rows: readonly Record<string, string | null>[], names: Record<string, string>, metrics: readonly string[]) =>
    rows.map((row) =>
      Object.fromEntries(
        Object.entries(names).map(([sqlName, gqlName]) => {
          const value = row[sqlName] ?? null;
          return [gqlName, value !== null && metrics.includes(gqlName) ? Number(value) : value];
        }),
      ),
    );

  it('answers the API.md example exactly as GraphQL metrics does (node-postgres, simple protocol)', async () => {
    const c = await client('admin');
    try {
      const sql = await c.query(`SELECT metric_time__month, customer__risk_level, MEASURE(purchase_amount) AS purchase_amount
        FROM transaction WHERE metric_time__month >= '2026-01-01' GROUP BY 1, 2 ORDER BY 1, 2`);
      expect(sql.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
        ['metric_time__month', 1082],
        ['customer__risk_level', 25],
        ['purchase_amount', 701],
      ]);
      const gql = await graphql('admin', {
        metrics: ['purchase_amount'],
        groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }],
        where: { dimension: 'metric_time', grain: 'MONTH', op: 'GTE', values: ['2026-01-01'] },
        orderBy: [{ field: 'metric_time__month' }, { field: 'customer__risk_level' }],
      });
      expect(sql.rows.length).toBeGreaterThan(10);
      expect(
        asGraphql(sql.rows, { metric_time__month: 'metric_time__month', customer__risk_level: 'customer__risk_level', purchase_amount: 'purchase_amount' }, [
          'purchase_amount',
        ]),
      ).toEqual(gql.rows);
    } finally {
      await c.end();
    }
  });

  it('binds parameters, named statements and row limits over the extended protocol as GraphQL answers them', async () => {
    const c = await client('admin');
    try {
      const text = `SELECT customer__age_band AS band, SUM(purchase_amount) AS amount, purchasers FROM transaction
        WHERE transaction.channel = $1 AND metric_time__day BETWEEN $2 AND $3 AND customer__risk_level IN ($4, 'C4') GROUP BY band ORDER BY amount DESC LIMIT $5`;
      const values = ['app', '2026-01-01', '2026-06-30', 'C3', 4];
      const sql = await c.query({ name: 'by-band', text, values });
      const again = await c.query({ name: 'by-band', text, values });
      expect(again.rows).toEqual(sql.rows);
      const gql = await graphql('admin', {
        metrics: ['purchase_amount', 'purchasers'],
        groupBy: [{ dimension: 'customer.age_band' }],
        where: {
          and: [
            { dimension: 'transaction.channel', op: 'EQ', values: ['app'] },
            { dimension: 'metric_time', grain: 'DAY', op: 'BETWEEN', values: ['2026-01-01', '2026-06-30'] },
            { dimension: 'customer.risk_level', op: 'IN', values: ['C3', 'C4'] },
          ],
        },
        orderBy: [{ field: 'purchase_amount', direction: 'DESC' }],
        limit: 4,
      });
      expect(sql.rows).toHaveLength(gql.rows.length);
      expect(
        asGraphql(sql.rows, { band: 'customer__age_band', amount: 'purchase_amount', purchasers: 'purchasers' }, ['purchase_amount', 'purchasers']),
      ).toEqual(gql.rows);
      const catalog = await c.query({ text: 'SELECT relname FROM pg_catalog.pg_class WHERE relname = $1', values: ['transaction'] });
      expect(catalog.rows).toEqual([{ relname: 'transaction' }]);
    } finally {
      await c.end();
    }
  });

  it('reads tags as columns of the tables that reach the customer', async () => {
    const c = await client('admin');
    try {
      const sql = await c.query('SELECT customer__tag__aum_tier AS tier, MEASURE(purchase_amount) FROM transaction GROUP BY 1 ORDER BY 1');
      const gql = await graphql('admin', {
        metrics: ['purchase_amount'],
        groupBy: [{ dimension: 'customer.tag.aum_tier' }],
        orderBy: [{ field: 'customer__tag__aum_tier' }],
      });
      expect(asGraphql(sql.rows, { tier: 'customer__tag__aum_tier', measure: 'purchase_amount' }, ['purchase_amount'])).toEqual(gql.rows);
    } finally {
      await c.end();
    }
  });

  it('answers binary result formats (as pgjdbc asks for fixed-size types) and binary parameters', async () => {
    // node-postgres reads every value as UTF-8 text, so this speaks the protocol directly.
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    const until = async (type: string) => {
      for (let i = 0; i < 500 && !wire.splitMessages(received).some((m) => m.type === type); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const messages = wire.splitMessages(received);
      received = Buffer.alloc(0);
      return messages;
    };
    const startup = new wire.MessageWriter('')
      .int32(196608)
      .cstring('user')
      .cstring('bi')
      .cstring('database')
      .cstring('strata')
      .bytes(Buffer.from([0]))
      .finish()
      .subarray(1);
    socket.write(startup);
    await until('R');
    socket.write(new wire.MessageWriter('p').cstring(server.keys.admin).finish());
    await until('Z');
    const text =
      'SELECT metric_time__month, customer__risk_level, MEASURE(purchase_amount) AS amount FROM transaction WHERE customer__risk_level = $1 GROUP BY 1, 2 ORDER BY 1';
    const risk = Buffer.from('C3');
    socket.write(
      Buffer.concat([wire.parseMessage(text, [25]), wire.bindMessage([1], [risk], [1]), wire.describeMessage('P'), wire.executeMessage(), wire.syncMessage()]),
    );
    const messages = await until('Z');
    expect(messages.map((m) => m.type).filter((t) => t !== 'D')).toEqual(['1', '2', 'T', 'C', 'Z']);
    const rows = messages
      .filter((m) => m.type === 'D')
      .map(({ message }) => {
        const month = message.readInt32BE(11);
        const riskLength = message.readInt32BE(15);
        const amountAt = 19 + riskLength;
        return {
          metric_time__month: new Date(Date.UTC(2000, 0, 1) + month * 86_400_000).toISOString().slice(0, 10),
          customer__risk_level: message.toString('utf8', 19, 19 + riskLength),
          purchase_amount: message.readInt32BE(amountAt) === -1 ? null : message.readDoubleBE(amountAt + 4),
        };
      });
    socket.end(new wire.MessageWriter('X').finish());
    const gql = await graphql('admin', {
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }],
      where: { dimension: 'customer.risk_level', op: 'EQ', values: ['C3'] },
      orderBy: [{ field: 'metric_time__month' }],
    });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual(gql.rows);
  });

  it('suppresses small cells for an analyst exactly as GraphQL does', async () => {
    const c = await client('analyst');
    try {
      const sql = await c.query(
        "SELECT metric_time__day, customer__risk_level, MEASURE(purchasers) FROM transaction WHERE metric_time__month = '2026-03-01' GROUP BY 1, 2 ORDER BY 1, 2",
      );
      const gql = await graphql('analyst', {
        metrics: ['purchasers'],
        groupBy: [{ dimension: 'metric_time', grain: 'DAY' }, { dimension: 'customer.risk_level' }],
        where: { dimension: 'metric_time', grain: 'MONTH', op: 'EQ', values: ['2026-03-01'] },
        orderBy: [{ field: 'metric_time__day' }, { field: 'customer__risk_level' }],
      });
      expect(gql.suppressedRows.length).toBeGreaterThan(0);
      const rows = asGraphql(sql.rows, { metric_time__day: 'metric_time__day', customer__risk_level: 'customer__risk_level', measure: 'purchasers' }, [
        'purchasers',
      ]);
      expect(rows).toEqual(gql.rows);
      for (const index of gql.suppressedRows) expect(sql.rows[index]?.measure).toBeNull();
      // Personal members are above an analyst's clearance, as in GraphQL.
      await expect(c.query('SELECT customer__customer_id, MEASURE(purchase_amount) FROM transaction GROUP BY 1')).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining('personal'),
      });
    } finally {
      await c.end();
    }
  });

  it('audits each statement: key, kind, table, metrics, rows and suppressed rows, never the SQL text or values', async () => {
    const c = await client('analyst');
    try {
      await c.query({
        text: "SELECT customer__risk_level, MEASURE(purchasers) FROM transaction WHERE channel = $1 AND customer__age_band <> 'secret-literal' GROUP BY 1",
        values: ['app'],
      });
    } finally {
      await c.end();
    }
    const lines = log.lines.filter((l) => l.msg === 'sql statement' && l.kind === 'metric' && l.key === 'bi-analyst');
    expect(lines.at(-1)).toMatchObject({ table: 'transaction', metrics: ['purchasers'], rows: expect.any(Number), suppressedRows: expect.any(Number) });
    expect(log.text()).not.toContain('secret-literal');
    expect(log.lines.some((l) => l.msg === 'sql session started' && l.key === 'bi-analyst')).toBe(true);
  });

  it('refuses a bad key (28P01) and a role that may not query metrics (42501) at connection', async () => {
    await expect(client('sk_not_a_key')).rejects.toMatchObject({ code: '28P01' });
    await expect(client('app')).rejects.toMatchObject({ code: '42501' });
  });

  it('answers unsupported SQL with a SQLSTATE and what is supported, and the session goes on', async () => {
    const c = await client('admin');
    try {
      await expect(c.query('SELECT count(*) FROM transaction')).rejects.toMatchObject({ code: '0A000', hint: expect.stringContaining('MEASURE(metric)') });
      await expect(c.query('SELECT nope FROM transaction')).rejects.toMatchObject({ code: '42703' });
      await expect(c.query('SELECT * FROM transactions')).rejects.toMatchObject({ code: '42P01' });
      await expect(c.query("DELETE FROM transaction WHERE channel = 'app'")).rejects.toMatchObject({ code: '0A000' });
      await expect(c.query({ text: 'SELECT nope FROM transaction', values: [] as string[], queryMode: 'extended' } as pg.QueryConfig)).rejects.toMatchObject({
        code: '42703',
      });
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
    } finally {
      await c.end();
    }
  });

  it('reports one identity: the served database name and a version naming Strata and the PostgreSQL release of its catalogs', async () => {
    const c = await client('admin');
    try {
      const served = engine === 'postgres' ? new URL(server.database.url as string).pathname.slice(1) : 'strata';
      // node-postgres keeps the ParameterStatus values of the startup (untyped in @types/pg).
      const startup = (c as unknown as { connection: { parameters?: Record<string, string> } }).connection.parameters;
      const { rows } = await c.query(`SELECT version() AS version, current_database() AS database, current_catalog AS catalog,
          (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE NOT datistemplate) AS databases,
          (SELECT DISTINCT table_catalog FROM information_schema.tables WHERE table_name = 'transaction') AS table_catalog`);
      const [{ server_version: shown }] = (await c.query('SHOW server_version')).rows as [{ server_version: string }];
      const extended = await c.query({ text: 'SHOW server_version', values: [] as string[], queryMode: 'extended' } as pg.QueryConfig);
      expect(rows[0]).toEqual({
        version: expect.stringMatching(/^PostgreSQL 18\.\d+ \(Strata \d+\.\d+\.\d+\)/),
        database: served,
        catalog: served,
        databases: served,
        table_catalog: served,
      });
      expect(shown).toMatch(/^18\.\d+ \(Strata \d+\.\d+\.\d+\)$/);
      expect(extended.rows).toEqual([{ server_version: shown }]);
      if (startup) expect(startup.server_version).toBe(shown);
    } finally {
      await c.end();
    }
  });

  it.skipIf(!psqlReady)('serves psql: \\dt, \\d+ transaction with descriptions, and queries', async () => {
    const env = { ...process.env, PGPASSWORD: server.keys.admin, PGCONNECT_TIMEOUT: '10' };
    const psql = async (...args: string[]) => {
      const run = await runProgram('psql', ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'bi', '-d', 'strata', ...args], env);
      expect(run.stderr).toBe('');
      return run.stdout;
    };
    const tables = await psql('-c', '\\dt');
    for (const table of ['transaction', 'customer', 'holding', 'app_event']) expect(tables).toMatch(new RegExp(`public \\| ${table} +\\| table`));
    const described = await psql('-c', '\\d+ transaction');
    expect(described).toContain('Table "public.transaction"');
    expect(described).toMatch(/customer__risk_level +\| text/);
    expect(described).toMatch(/purchase_amount +\| double precision/);
    expect(described).toContain('Sum of succeeded purchase amounts (CNY).');
    const csv = await psql('--csv', '-c', 'SELECT metric_time__year, MEASURE(purchase_amount) FROM transaction GROUP BY 1 ORDER BY 1');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('metric_time__year,measure');
    expect(lines.length).toBeGreaterThan(1);
  });

  it.skipIf(!pythonReady)('serves psycopg2 queries and SQLAlchemy reflection with comments', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'strata-sql-'));
    const script = join(folder, 'client.py');
    writeFileSync(
      script,
      [
        'import json, sys, psycopg2, sqlalchemy',
        'port, key = int(sys.argv[1]), sys.argv[2]',
        "conn = psycopg2.connect(host='127.0.0.1', port=port, user='bi', password=key, dbname='strata')",
        'cur = conn.cursor()',
        "cur.execute('SELECT customer__risk_level, MEASURE(purchase_amount) FROM transaction WHERE channel IN %s GROUP BY 1 ORDER BY 1', (('app', 'web'),))",
        'rows = [[r[0], r[1]] for r in cur.fetchall()]',
        'conn.commit()',
        'conn.close()',
        "engine = sqlalchemy.create_engine(f'postgresql+psycopg2://bi:{key}@127.0.0.1:{port}/strata')",
        'inspector = sqlalchemy.inspect(engine)',
        "columns = {c['name']: [str(c['type']), c.get('comment')] for c in inspector.get_columns('transaction')}",
        "print(json.dumps({'rows': rows, 'tables': inspector.get_table_names(), 'columns': columns, 'comment': inspector.get_table_comment('transaction')['text'],",
        "  'pk': inspector.get_pk_constraint('transaction'), 'indexes': inspector.get_indexes('transaction')}))",
      ].join('\n'),
    );
    const run = await runProgram(PYTHON, [script, String(port), server.keys.admin]);
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as {
      rows: [string, number | null][];
      tables: string[];
      columns: Record<string, [string, string | null]>;
      comment: string;
    };
    const gql = await graphql('admin', {
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'customer.risk_level' }],
      where: { dimension: 'transaction.channel', op: 'IN', values: ['app', 'web'] },
      orderBy: [{ field: 'customer__risk_level' }],
    });
    expect(out.rows.map(([risk, amount]) => ({ customer__risk_level: risk, purchase_amount: amount }))).toEqual(gql.rows);
    expect(out.tables).toEqual(expect.arrayContaining(['transaction', 'customer', 'holding']));
    expect(out.columns.metric_time__month).toEqual(['DATE', expect.stringContaining('month')]);
    expect(out.columns.purchase_amount).toEqual(['DOUBLE_PRECISION', 'Sum of succeeded purchase amounts (CNY).']);
    expect(out.comment).toContain('one row per transaction');
  });

  describe('replays what BI tools send', () => {
    for (const fixture of BI_TOOL_QUERIES) {
      for (const mode of ['simple', 'extended'] as const) {
        if (mode === 'extended' && fixture.sql.includes(';')) continue;
        it(`${fixture.tool}: ${fixture.what} (${mode} protocol)`, async () => {
          const c = await client('admin');
          try {
            const run = () => c.query({ text: fixture.sql, ...(mode === 'extended' ? { queryMode: 'extended' } : {}) } as pg.QueryConfig);
            if ('error' in fixture.expect) {
              await expect(run()).rejects.toMatchObject({ code: fixture.expect.error });
              return;
            }
            const result = await run();
            const results = Array.isArray(result) ? result : [result];
            const text = JSON.stringify(results.map((r: pg.QueryResult) => r.rows));
            if ('rowsMention' in fixture.expect) for (const mention of fixture.expect.rowsMention) expect(text).toContain(mention);
          } finally {
            await c.end();
          }
        });
      }
    }
  });

  it('ends idle sessions with 57P01 when the server stops, and answers a cancel request for an unknown session without effect', async () => {
    const c = await client('admin');
    const cancel = connect(port, '127.0.0.1');
    await new Promise((resolve) => cancel.once('connect', resolve));
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(999_999, 8);
    packet.writeInt32BE(1, 12);
    cancel.end(packet);
    await new Promise((resolve) => cancel.once('close', resolve));
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: '2' }]);
    await c.end();
    const second = await createApp(server.database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000 });
    const secondPort = await second.listenSql(0);
    const d = new pg.Client({ host: '127.0.0.1', port: secondPort, user: 'bi', password: server.keys.admin, database: 'strata', types: TEXT_TYPES });
    await d.connect();
    const errors: unknown[] = [];
    d.on('error', (error) => errors.push(error));
    await second.close({ graceMs: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors[0]).toMatchObject({ code: '57P01' });
  });

  it('upgrades to TLS when a certificate is configured (node-postgres and psql with sslmode=require)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'strata-sql-tls-'));
    const [cert, key] = [join(folder, 'cert.pem'), join(folder, 'key.pem')];
    await runProgram('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert]);
    const secured = await createApp(server.database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000, sqlTls: { certFile: cert, keyFile: key } });
    try {
      const securedPort = await secured.listenSql(0);
      const c = new pg.Client({
        host: '127.0.0.1',
        port: securedPort,
        user: 'bi',
        password: server.keys.admin,
        database: 'strata',
        types: TEXT_TYPES,
        ssl: { rejectUnauthorized: false },
      });
      await c.connect();
      try {
        expect((c as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream.encrypted).toBe(true);
        expect((await c.query('SELECT metric_time__year, MEASURE(purchase_amount) FROM transaction GROUP BY 1')).rows.length).toBeGreaterThan(0);
      } finally {
        await c.end();
      }
      if (psqlReady) {
        const run = await runProgram(
          'psql',
          [
            '-X',
            '-A',
            '-t',
            `postgresql://bi@127.0.0.1:${securedPort}/strata?sslmode=require`,
            '-c',
            'SELECT ssl FROM pg_stat_ssl LIMIT 0',
            '-c',
            '\\conninfo',
          ],
          { ...process.env, PGPASSWORD: server.keys.admin },
        );
        expect(run.stdout).toContain('SSL connection');
      }
    } finally {
      await secured.close({ graceMs: 1_000 });
    }
  });

  it('spends the analytics rate limit per metric statement, as GraphQL metrics does', async () => {
    const limited = await createApp(server.database, bundledDomain(), {
      dev: false,
      maxBodyBytes: 1_000_000,
      rateLimits: { ...DEFAULT_RATE_LIMITS, analytics: { perSecond: 0.001, burst: 1 } },
    });
    try {
      const limitedPort = await limited.listenSql(0);
      const c = new pg.Client({ host: '127.0.0.1', port: limitedPort, user: 'bi', password: server.keys.admin, database: 'strata', types: TEXT_TYPES });
      await c.connect();
      try {
        await c.query('SELECT MEASURE(purchase_amount) FROM transaction');
        await expect(c.query('SELECT MEASURE(purchase_amount) FROM transaction')).rejects.toMatchObject({
          code: '53400',
          message: expect.stringContaining('Rate limit'),
        });
        expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
      } finally {
        await c.end();
      }
    } finally {
      await limited.close({ graceMs: 1_000 });
    }
  });
});
