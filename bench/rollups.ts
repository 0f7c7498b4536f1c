/**
 * Rollups at production scale (issue 20). On `strata_bench_1m` (1,000,000 customers,
 * PostgreSQL): builds the rollups answering the 12 core metrics by Shanghai month and one
 * customer dimension (`--dimension`, default `customer.risk_level`; `--all` builds every
 * rollup of the domain, tags included), then per core metric over 12 months the latency of
 * the semantic layer in process (compile, freshness check, statement, as the API's
 * resolver runs it) from the rollup and from raw tables in the same run (medians, and
 * their ratio), after checking both give the same rows. Then one day of new events
 * (`--events`, default 100,000) goes through the ingestion path (which marks the affected
 * partitions stale), the refresh is timed (target < 30 s), and the answers are compared
 * again; the events are deleted at the end (and the rollups refreshed back). Prints the
 * rollups' storage.
 *
 *   npx tsx bench/rollups.ts [--runs 7] [--raw-runs 1] [--events 100000] [--dimension customer.risk_level] [--all] [--url postgres://...]
 *     [--only core_monthly,core_monthly_by__customer__channel,...] [--skip-reads] [--separate] [--since 2026-10-01]
 *
 * `--only` builds and refreshes exactly these rollups (names as stored) instead of
 * `--dimension`'s; `--skip-reads` measures the build and the refresh only (no latency table);
 * `--separate` recomputes every partition by its own statement, as before rollups sharing a
 * computation were refreshed from one (the comparison of the two); `--since` builds and
 * refreshes only the partitions ending after that day (the rest stay stale, answered raw).
 *
 * `--url` runs against another seeded PostgreSQL database (a quick check on a small one).
 * Raw reads of a year of distinct counts at this scale take tens of seconds each: they run
 * without a statement timeout, `--raw-runs` times (default 1).
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { ensureMillionDatabase } from './support/million-database.ts';
import { describeMachine, loadAverage, peakRssMb, waitForQuietMachine } from './support/machine.ts';
import { rowDifferences } from './support/compare-rows.ts';
import { formatTable, median } from './support/stats.ts';
import { openDatabase } from '../store/database.ts';
import { ingestEvents } from '../store/event-store.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { concreteRollups, canonicalDimension } from '../modeling/catalog/rollups.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { WEALTH_CORE_METRICS } from '../domains/wealth/metrics.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createSemanticProvider } from '../services/semantic-provider.ts';
import { refreshRollups } from '../services/rollups.ts';
import { markRollupsStale } from '../store/rollup-marks.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'raw-runs': { type: 'string', default: '1' },
    events: { type: 'string', default: '100000' },
    dimension: { type: 'string', default: 'customer.risk_level' },
    from: { type: 'string', default: '2025-11-01' },
    to: { type: 'string', default: '2026-11-01' },
    day: { type: 'string', default: '2026-10-30' },
    all: { type: 'boolean', default: false },
    only: { type: 'string' },
    'skip-reads': { type: 'boolean', default: false },
    separate: { type: 'boolean', default: false },
    since: { type: 'string' },
    url: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
const RAW_RUNS = Number(values['raw-runs']);
const EVENTS = Number(values.events);
const DIMENSION = values.dimension;
const RANGE = { from: values.from, to: values.to };
const TARGET_REFRESH_S = 30;
const TARGET_ROLLUP_MS = 300;
type Row = Record<string, unknown>;

console.log(`machine: ${describeMachine()}`);
const url = values.url ?? (await ensureMillionDatabase());
const database = await openDatabase({ databaseUrl: url, poolSize: 4, statementTimeoutMs: 0 });
const domain = bundledDomain();
const tags = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
const layer = await createSemanticProvider(domain.catalog, domain.subject, tags, { maxRows: 100_000 }).current();
const catalog = layer.index.catalog;
const column = canonicalDimension(DIMENSION).replaceAll('.', '__');
const wanted = values.all
  ? undefined
  : values.only
    ? values.only.split(',').filter((n) => concreteRollups(catalog).some((r) => r.name === n))
    : concreteRollups(catalog)
        .filter((r) => r.dimensions.length === 1 && r.dimensions[0] === canonicalDimension(DIMENSION))
        .map((r) => r.name);
if (wanted && wanted.length === 0) throw new Error(`no rollup of the domain stores ${DIMENSION}`);
console.log(
  `database: ${values.url ? values.url.replace(/^.*\//, '') : 'strata_bench_1m (1,000,000 customers, seed 42)'}; rollups: ${wanted ? wanted.join(', ') : 'all'}`,
);

const refreshOptions = {
  subject: domain.subject,
  postgres: database.engine === 'postgres',
  statementTimeoutMs: 0,
  shareScans: !values.separate,
  ...(values.since ? { since: values.since } : {}),
  onPartition: (p: { rollup: string; period: string; ms: number; shared: number; customers?: number }) =>
    process.stderr.write(
      `  ${p.rollup} ${p.period}: ${(p.ms / 1000).toFixed(1)} s${p.shared > 1 ? ` (one computation for ${p.shared})` : ''}${p.customers !== undefined ? ` (${p.customers} touched customers)` : ''}\n`,
    ),
  ...(wanted ? { only: wanted } : {}),
};
/** A refresh of the measured rollups, waiting while another process holds the refresh lock (the wait is not timed). */
async function refreshWhenFree(): Promise<{ outcome: Awaited<ReturnType<typeof refreshRollups>>; seconds: number; load: number[] }> {
  for (;;) {
    const load = loadAverage();
    const t = performance.now();
    const outcome = await refreshRollups(database.db, catalog, refreshOptions);
    if (outcome.ran) return { outcome, seconds: (performance.now() - t) / 1000, load };
    process.stderr.write('  another process holds the refresh lock: waiting\n');
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

let load = loadAverage();
let started = performance.now();
const { outcome: built, seconds: buildSeconds, load: buildLoad } = await refreshWhenFree();
console.log(
  `\nbuild: ${built.rollups} rollups, ${built.partitions} partitions computed in ${buildSeconds.toFixed(1)} s (load average before ${buildLoad.join(' ')})`,
);

const query = (metric: string): MetricQuery => ({
  metrics: [metric],
  groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: DIMENSION }],
  timeRange: RANGE,
});

async function timed(q: MetricQuery): Promise<{ ms: number; rows: Row[]; source: string }> {
  const t = performance.now();
  const result = await layer.query(database.db, q);
  return { ms: performance.now() - t, rows: result.rows as Row[], source: result.freshness.rollup ?? result.freshness.source };
}

const table: string[][] = [];
const misses: string[] = [];
if (!values['skip-reads']) {
  load = await waitForQuietMachine();
  console.log(`\n12 months by month and ${DIMENSION}, in process (load average ${load.join(' ')})`);
}
for (const metric of values['skip-reads'] ? [] : WEALTH_CORE_METRICS) {
  const fromRollup: number[] = [];
  const fromRaw: number[] = [];
  const first = await timed(query(metric));
  const raw = await timed({ ...query(metric), useRollups: false });
  fromRaw.push(raw.ms);
  const problems = rowDifferences(first.rows, raw.rows, ['metric_time__month', column], metric);
  for (let i = 0; i < RUNS; i++) fromRollup.push((await timed(query(metric))).ms);
  for (let i = 1; i < RAW_RUNS; i++) fromRaw.push((await timed({ ...query(metric), useRollups: false })).ms);
  const r = median(fromRollup);
  const w = median(fromRaw);
  if (first.source === 'RAW' || problems.length > 0 || r >= TARGET_ROLLUP_MS) misses.push(metric);
  table.push([
    metric,
    first.source,
    r.toFixed(1),
    w.toFixed(0),
    (w / r).toFixed(0),
    String(first.rows.length),
    problems.length === 0 ? 'same rows' : `DIFFER: ${problems.slice(0, 2).join('; ')}`,
  ]);
  process.stderr.write(`  ${metric}: rollup ${r.toFixed(1)} ms, raw ${w.toFixed(0)} ms\n`);
}
if (!values['skip-reads']) {
  console.log(formatTable(['metric', 'answered by', 'rollup p50 ms', 'raw p50 ms', 'raw / rollup', 'rows', 'check'], table));
  console.log(
    `target: every metric from a rollup, p50 < ${TARGET_ROLLUP_MS} ms, same rows as raw: ${misses.length === 0 ? 'ok' : `MISS (${misses.join(', ')})`}`,
  );
}

// One day of events through the ingestion path, then the refresh.
const { rows: customers } = await sql<{ customer_id: string }>`SELECT customer_id FROM wealth.customers ORDER BY customer_id LIMIT 20000`.execute(database.db);
const names = ['app_open', 'page_view', 'placement_impression', 'placement_click', 'product_view', 'purchase_submit', 'purchase_success', 'login'];
const prefix = `bench-rollups-${Date.now().toString(36)}`;
const dayStart = Date.parse(`${values.day}T00:00:00+08:00`);
const touched = new Set<string | null>();
started = performance.now();
for (let offset = 0; offset < EVENTS; offset += 1000) {
  const batch = Array.from({ length: Math.min(1000, EVENTS - offset) }, (_, j) => {
    const i = offset + j;
    return {
      eventId: `${prefix}-${i}`,
      name: names[i % names.length] as string,
      customerId: customers[(i * 7919) % customers.length]?.customer_id ?? null,
      occurredAt: new Date(dayStart + Math.floor((i / EVENTS) * 86_399_000)).toISOString(),
      channel: 'app',
      ...(i % names.length === 2 || i % names.length === 3 ? { placementId: 'home_banner' } : {}),
      properties: {},
      personalProperties: [],
    };
  });
  for (const event of batch) touched.add(event.customerId);
  await ingestEvents(database, batch as never);
}
const ingestSeconds = (performance.now() - started) / 1000;
const stale = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM rollups.partitions WHERE version > refreshed_version`.execute(database.db);
const { outcome: refreshed, seconds: refreshSeconds, load: refreshLoad } = await refreshWhenFree();
console.log(
  `\n${EVENTS.toLocaleString('en-US')} events of ${values.day} ingested in ${ingestSeconds.toFixed(1)} s; ${stale.rows[0]?.n} partitions stale (over every rollup built); refresh of the measured rollups recomputed ${refreshed.partitions} partitions in ${refreshSeconds.toFixed(1)} s (target < ${TARGET_REFRESH_S} s: ${refreshSeconds < TARGET_REFRESH_S ? 'ok' : 'MISS'}; load average before ${refreshLoad.join(' ')})`,
);
const october: MetricQuery = { ...query('active_customers'), timeRange: { from: '2026-10-01', to: '2026-11-01' } };
const afterRollup = await timed(october);
const afterRaw = await timed({ ...october, useRollups: false });
const afterProblems = rowDifferences(afterRollup.rows, afterRaw.rows, ['metric_time__month', column], 'active_customers');
console.log(
  `after the refresh, active_customers of October from ${afterRollup.source}: ${afterProblems.length === 0 ? 'same rows as raw' : `DIFFER ${afterProblems.slice(0, 2).join('; ')}`}`,
);

const { rows: states } = await sql<{ table_name: string }>`SELECT table_name FROM rollups.state ORDER BY 1`.execute(database.db);
let storedRows = 0;
for (const s of states) {
  const { rows } = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table(`rollups.${s.table_name}`)}`.execute(database.db);
  storedRows += Number(rows[0]?.n);
}
const { rows: sizes } = await sql<{ tables: string; bytes: string }>`
  SELECT COUNT(*) AS tables, COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'rollups' AND c.relkind = 'r' AND c.relname LIKE 'r\\_%'`.execute(
  database.db,
);
console.log(
  `rollup storage: ${states.length} rollups built, ${sizes[0]?.tables} partitions, ${storedRows.toLocaleString('en-US')} rows, ${(Number(sizes[0]?.bytes) / 1024 / 1024).toFixed(1)} MB`,
);
// The per-customer rows kept for incremental refresh (rollups.c_<hash>: one row per customer and period).
const { rows: kept } = await sql<{ tables: string; rows: string; bytes: string }>`
  SELECT COUNT(*) AS tables, COALESCE(SUM((xpath($$/row/n/text()$$, query_to_xml(format($$SELECT COUNT(*) AS n FROM rollups.%I$$, c.relname), false, true, $$$$)))[1]::text::bigint), 0) AS rows, COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'rollups' AND c.relkind = 'r' AND c.relname LIKE 'c\_%'`.execute(database.db);
console.log(
  `per-customer rows kept for incremental refresh: ${kept[0]?.tables} partitions, about ${Math.max(0, Number(kept[0]?.rows)).toLocaleString('en-US')} rows, ${(Number(kept[0]?.bytes) / 1024 / 1024).toFixed(1)} MB`,
);

// Leave the database as found: the events go, their customers' periods are recomputed.
await database.db.transaction().execute(async (trx) => {
  await sql`DELETE FROM wealth.app_events WHERE event_id LIKE ${`${prefix}-%`} AND occurred_at >= ${new Date(dayStart).toISOString()} AND occurred_at < ${new Date(dayStart + 86_400_000).toISOString()}`.execute(
    trx,
  );
  await markRollupsStale(trx, 'wealth.app_events', new Date(dayStart), new Date(dayStart + 86_399_000), [...touched]);
});
await refreshWhenFree();
await database.close();
console.log(`peak RSS: ${peakRssMb()} MB`);
if (misses.length > 0 || afterProblems.length > 0 || refreshSeconds >= TARGET_REFRESH_S) process.exitCode = 1;
