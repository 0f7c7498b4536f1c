/**
 * SQL for BI tools (issue 22). Three figures:
 *
 * 1. translation overhead, in process: PostgreSQL's parser (libpg-query) plus the translation
 *    into a metric query, per statement, for the shapes BI tools send (p50/p99; target < 2 ms);
 * 2. latency at 32 concurrent connections: `strata serve` (a child process) on the database,
 *    32 node-postgres connections each sending metric statements (extended protocol) and
 *    catalog queries for `--seconds`; p50/p99 per kind;
 * 3. the same metric query through SQL and through GraphQL `metrics`, alternately, medians
 *    of `--runs` after a warm-up; the answers must be equal; target: within 10 %.
 *
 *   npx tsx bench/sql-endpoint.ts [--part translate|concurrency|compare|all] [--runs 7] [--seconds 20] [--url postgres://...]
 *
 * Parts 2 and 3 run on `strata_bench_1m` (1,000,000 customers, PostgreSQL; created and seeded
 * on first use) unless `--url` names another seeded database. They wait for a quiet machine.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ensureMillionDatabase } from './support/million-database.ts';
import { describeMachine, peakRssMb, waitForQuietMachine } from './support/machine.ts';
import { startStrataServer } from './support/strata-server.ts';
import { postGraphql } from './support/graphql-client.ts';
import { formatTable, median, quantile } from './support/stats.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { loadSqlParser, parseStatements } from '../modeling/sql-interface/statements.ts';
import { semanticTables } from '../modeling/sql-interface/semantic-tables.ts';
import { translateSelect } from '../modeling/sql-interface/translate-select.ts';
import { openDatabase } from '../store/database.ts';
import { createApiKey } from '../store/api-keys.ts';

const { values } = parseArgs({
  options: {
    part: { type: 'string', default: 'all' },
    runs: { type: 'string', default: '7' },
    seconds: { type: 'string', default: '20' },
    url: { type: 'string' },
  },
});
const PART = values.part;
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const CONNECTIONS = 32;

/** The statement of part 3 and the metric statement of part 2: API.md's example over the demo data's last quarter. */
const COMPARED_SQL = `SELECT metric_time__month, customer__risk_level, MEASURE(purchase_amount) AS purchase_amount
  FROM transaction WHERE metric_time__month >= '2026-08-01' AND metric_time__month < '2026-11-01' GROUP BY 1, 2 ORDER BY 1, 2`;
const COMPARED_QUERY = {
  metrics: ['purchase_amount'],
  groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }],
  where: {
    and: [
      { dimension: 'metric_time', grain: 'MONTH', op: 'GTE', values: ['2026-08-01'] },
      { dimension: 'metric_time', grain: 'MONTH', op: 'LT', values: ['2026-11-01'] },
    ],
  },
  orderBy: [{ field: 'metric_time__month' }, { field: 'customer__risk_level' }],
};

const TRANSLATED: readonly [string, string][] = [
  ['API.md example', COMPARED_SQL],
  [
    'Tableau CAST + MEASURE',
    'SELECT CAST("transaction"."customer__risk_level" AS TEXT) AS "risk", (MEASURE("transaction"."purchase_amount")) AS "usr:calc:ok" FROM "public"."transaction" "transaction" GROUP BY 1',
  ],
  [
    'Superset virtual dataset',
    `SELECT risk AS risk, sum(amount) AS "SUM(amount)" FROM (SELECT customer__risk_level AS risk, MEASURE(purchase_amount) AS amount FROM transaction WHERE channel IN ('app', 'web') GROUP BY 1) AS virtual_table GROUP BY risk ORDER BY "SUM(amount)" DESC LIMIT 10000`,
  ],
  [
    'Metabase date_trunc',
    `SELECT date_trunc('month', "public"."transaction"."metric_time__day") AS "metric_time__day", SUM("public"."transaction"."purchase_amount") AS "sum" FROM "public"."transaction" WHERE "public"."transaction"."metric_time__day" >= timestamp with time zone '2026-01-01 00:00:00.000Z' GROUP BY date_trunc('month', "public"."transaction"."metric_time__day") ORDER BY 1`,
  ],
];

type Row = Record<string, unknown>;
const TEXT = { getTypeParser: () => (value: string) => value };

async function translationOverhead(): Promise<void> {
  await loadSqlParser();
  const tables = semanticTables(createSemanticLayer(wealthCatalog(), { maxRows: 100_000 }).index);
  const rows: string[][] = [];
  for (const [name, sql] of TRANSLATED) {
    const samples: number[] = [];
    for (let i = 0; i < 7_000; i++) {
      const started = performance.now();
      const [statement] = parseStatements(sql, tables);
      if (statement?.kind !== 'metric') throw new Error(`${name}: not a metric statement`);
      translateSelect(statement.select, tables, []);
      if (i >= 2_000) samples.push(performance.now() - started);
    }
    const p99 = quantile(samples, 0.99);
    rows.push([name, String(samples.length), median(samples).toFixed(3), p99.toFixed(3), p99 < 2 ? '< 2 ms: ok' : '< 2 ms: MISS']);
  }
  console.log(formatTable(['statement (parse + translate)', 'samples', 'median ms', 'p99 ms', 'target'], rows));
}

async function adminKey(url: string): Promise<string> {
  const database = await openDatabase({ databaseUrl: url, poolSize: 1 });
  try {
    return await createApiKey(database.db, `bench-sql-${Date.now().toString(36)}`, 'admin');
  } finally {
    await database.close();
  }
}

async function connectSql(port: number, key: string): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'bench', password: key, database: 'strata', types: TEXT });
  await client.connect();
  return client;
}

async function concurrency(port: number, key: string): Promise<void> {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => connectSql(port, key)));
  const latencies = { metric: [] as number[], catalog: [] as number[] };
  const errors = new Map<string, number>();
  const deadline = performance.now() + SECONDS * 1000;
  const catalogSql = `SELECT a.attname, format_type(a.atttypid, a.atttypmod), col_description(a.attrelid, a.attnum)
    FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'public.transaction'::regclass AND a.attnum > 0 ORDER BY a.attnum`;
  await Promise.all(
    clients.map(async (client, i) => {
      let n = i;
      while (performance.now() < deadline) {
        const kind = n++ % 4 === 0 ? 'metric' : 'catalog';
        const started = performance.now();
        try {
          if (kind === 'metric') await client.query({ text: COMPARED_SQL.replace("'2026-08-01'", '$1'), values: ['2026-08-01'] });
          else await client.query(catalogSql);
          latencies[kind].push(performance.now() - started);
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'error';
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  const row = (kind: 'metric' | 'catalog') => {
    const s = latencies[kind];
    return [kind, String(s.length), (s.length / SECONDS).toFixed(1), median(s).toFixed(1), quantile(s, 0.99).toFixed(1)];
  };
  console.log(formatTable([`${CONNECTIONS} connections, ${SECONDS} s`, 'statements', 'per s', 'p50 ms', 'p99 ms'], [row('metric'), row('catalog')]));
  if (errors.size > 0) console.log(`refused or failed: ${[...errors].map(([code, count]) => `${code} x${count}`).join(', ')}`);
}

async function compare(serverUrl: string, port: number, key: string): Promise<void> {
  const client = await connectSql(port, key);
  const viaSql = async () => {
    const started = performance.now();
    const { rows } = await client.query<Row>(COMPARED_SQL);
    return { ms: performance.now() - started, rows };
  };
  const viaGraphql = async () => {
    const { ms, answer } = await postGraphql<{ metrics: { rows: Row[] } }>(
      serverUrl,
      'query ($q: MetricQueryInput!) { metrics(query: $q) { rows } }',
      { q: COMPARED_QUERY },
      { authorization: `Bearer ${key}` },
    );
    if (!answer.data) throw new Error(answer.errors?.map((e) => e.message).join('; ') ?? 'no data');
    return { ms, rows: answer.data.metrics.rows };
  };
  try {
    const [sql, gql] = [await viaSql(), await viaGraphql()];
    const asGraphql = sql.rows.map((r) => ({ ...r, purchase_amount: r.purchase_amount === null ? null : Number(r.purchase_amount) }));
    if (JSON.stringify(asGraphql) !== JSON.stringify(gql.rows)) throw new Error('the SQL and GraphQL answers differ');
    const sqlMs: number[] = [];
    const gqlMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      sqlMs.push((await viaSql()).ms);
      gqlMs.push((await viaGraphql()).ms);
    }
    const ratio = median(sqlMs) / median(gqlMs);
    console.log(
      formatTable(
        ['same metric query', 'rows', 'SQL median ms', 'GraphQL median ms', 'SQL / GraphQL', 'target'],
        [
          [
            'purchase_amount by month and risk level, last quarter',
            String(sql.rows.length),
            median(sqlMs).toFixed(1),
            median(gqlMs).toFixed(1),
            ratio.toFixed(3),
            Math.abs(ratio - 1) <= 0.1 ? 'within 10 %: ok' : 'within 10 %: MISS',
          ],
        ],
      ),
    );
  } finally {
    await client.end();
  }
}

console.log(`machine: ${describeMachine()}`);
if (PART === 'all' || PART === 'translate') {
  console.log('\n1. translation overhead, in process');
  await translationOverhead();
}
if (PART === 'all' || PART === 'concurrency' || PART === 'compare') {
  const url = values.url ?? (await ensureMillionDatabase());
  const key = await adminKey(url);
  const load = await waitForQuietMachine();
  console.log(`\ndatabase: ${values.url ? url.replace(/^.*\//, '') : 'strata_bench_1m (1,000,000 customers)'}; load average ${load.join(' ')}`);
  const server = await startStrataServer({ DATABASE_URL: url, STRATA_RATE_ANALYTICS: 'off', STRATA_RATE_CATALOG: 'off', STRATA_ANALYTICS_QUEUE: '64' });
  // Where the server's memory goes: the catalog mirror (one PGlite per server) starts on the first catalog query.
  const memory = (when: string) => console.log(`server RSS ${when}: ${server.rssMb() ?? '?'} MB (peak so far ${server.peakRssMb() ?? '?'} MB)`);
  try {
    memory('at start, before any SQL');
    const first = await connectSql(server.sqlPort, key);
    await first.query('SELECT current_database()');
    await first.end();
    memory('after the first catalog query (the mirror started)');
    if (PART !== 'concurrency') {
      console.log('\n3. the same metric query through SQL and GraphQL (admin key, no suppression)');
      await compare(server.url, server.sqlPort, key);
    }
    if (PART !== 'compare') {
      console.log(`\n2. latency at ${CONNECTIONS} concurrent SQL connections (one metric statement in four, the rest catalog queries)`);
      await concurrency(server.sqlPort, key);
    }
    memory('at the end');
  } finally {
    await server.stop();
  }
}
console.log(`peak RSS of the bench: ${peakRssMb()} MB`);
