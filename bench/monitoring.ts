/**
 * Business monitoring at production scale (issue 19), on a PostgreSQL database with the demo
 * data (default `strata_bench_1m`, 1,000,000 customers; `--url` names another, e.g. a small
 * one), as an analyst sees it (small cells suppressed):
 *   (a) the 4-step purchase funnel (app_open -> product_view -> purchase_submit ->
 *       purchase_success, 7-day window) over one month by channel: target < 3 s at 1M;
 *   (b) explainMetricChange of purchase conversion, September against October 2026, over 5
 *       dimensions (10 grouped queries and 2 totals through the semantic layer): target < 5 s;
 *   (c) each template dashboard: all its tiles run at once (metric queries, funnels, change
 *       explanations, goals), as the console does: target < 10 s per dashboard, no rollups.
 * Each the median of `--rounds` runs in this process, with the process's peak RSS.
 * `--rollups` serves the tiles as the API does, from the domain's rollups where they are
 * built and fresh (published tags included; target < 1 s per dashboard), and says how many
 * queries (metric, funnel and explained-change queries) a rollup answered; `--dashboards a,b` measures only those dashboards
 * (`--dashboards none`: the funnel and the explanation only).
 *
 *   npx tsx bench/monitoring.ts [--url postgres://...] [--rounds 3] [--rollups] [--dashboards key,...|none] [--tiles]
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDatabase } from '../store/database.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { withTagDimensions } from '../modeling/tags/tag-dimensions.ts';
import { createSemanticLayer, type QueryAccess, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createSemanticProvider } from '../services/semantic-provider.ts';
import { runFunnel } from '../services/funnels.ts';
import { explainMetricChange, explainInputOfJson } from '../services/metric-change.ts';
import { dataLastCompleteDay, funnelQueryOfJson, metricQueryOfJson, servedDashboard } from '../services/dashboards.ts';
import { goalActual, listGoals } from '../services/goals.ts';
import { ensureMillionDatabase } from './support/million-database.ts';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { formatTable, median } from './support/stats.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    rollups: { type: 'boolean', default: false },
    dashboards: { type: 'string' },
    tiles: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
  },
});
const ROUNDS = Math.max(1, Number(values.rounds));

const url = values.url ?? (await ensureMillionDatabase());
const database = await openDatabase({ databaseUrl: url, poolSize: 2, analyticsPoolSize: 8, statementTimeoutMs: 0 });
const domain = bundledDomain();
const semantic = values.rollups
  ? await rollupServedLayer()
  : createSemanticLayer(withTagDimensions(domain.catalog, domain.subject, domain.tags), { maxRows: 100_000, subject: domain.subject });
const only = values.dashboards === 'none' ? undefined : values.dashboards?.split(',');
const dashboardsToo = values.dashboards !== 'none';
const answered = { rollup: 0, raw: 0 };

/** The layer the API serves with: published tags, rollups checked for freshness before they answer. */
async function rollupServedLayer(): Promise<SemanticLayer> {
  const tags = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
  const layer = await createSemanticProvider(domain.catalog, domain.subject, tags, { maxRows: 100_000 }).current();
  const query: SemanticLayer['query'] = async (db, q, access) => {
    const result = await layer.query(db, q, access);
    answered[result.freshness.source === 'ROLLUP' ? 'rollup' : 'raw'] += 1;
    return result;
  };
  // Explained changes read through queryCounted: its plan names the rollup that answered.
  const queryCounted: SemanticLayer['queryCounted'] = async (db, q, access, how) => {
    const result = await layer.queryCounted(db, q, access, how);
    answered[result.plan.rollup ? 'rollup' : 'raw'] += 1;
    return result;
  };
  const funnel: SemanticLayer['funnel'] = async (db, q, access) => {
    const result = await layer.funnel(db, q, access);
    answered[result.freshness.source === 'ROLLUP' ? 'rollup' : 'raw'] += 1;
    return result;
  };
  return { ...layer, query, queryCounted, funnel };
}
const analyst: QueryAccess = { clearance: 'internal', minSubjects: 10 };
// The analytics connections, as the server's analytics lane uses (no JIT, its own work_mem).
const db = database.analytics;
console.log(`machine: ${describeMachine()}; load average at start ${loadAverage()[0].toFixed(2)}`);

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number[]; last: T }> {
  const seconds: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    last = await work();
    seconds.push((performance.now() - started) / 1000);
  }
  return { seconds, last: last as T };
}

const lastDay = await dataLastCompleteDay(db, semantic, new Date());
/** One tile, run as the operation its kind names. */
async function runTile(kind: string, query: Record<string, unknown>): Promise<void> {
  if (kind === 'METRIC') await semantic.query(db, metricQueryOfJson(query as never), analyst);
  else if (kind === 'FUNNEL') await runFunnel(db, semantic, domain, analyst, funnelQueryOfJson(query as never));
  else if (kind === 'CHANGE') await explainMetricChange(db, semantic, analyst, explainInputOfJson(query));
  else await Promise.all((await listGoals(db)).map((goal) => goalActual(db, semantic, analyst, goal)));
}

const rows: string[][] = [];
// (a) and (b) unless only some dashboards are measured.
if (!only) {
  const funnel = await timed(() =>
    runFunnel(db, semantic, domain, analyst, {
      funnel: 'purchase_flow',
      timeRange: { from: '2026-09-01', to: '2026-10-01' },
      groupBy: [{ dimension: 'customer.channel' }],
    }),
  );
  const change = await timed(() =>
    explainMetricChange(db, semantic, analyst, {
      metric: 'purchase_conversion_rate',
      base: { from: '2026-09-01', to: '2026-10-01' },
      current: { from: '2026-10-01', to: '2026-11-01' },
      dimensions: ['customer.channel', 'customer.risk_level', 'customer.age_band', 'customer.city_tier', 'customer.gender'],
    }),
  );

  rows.push(
    [
      'funnel: 4 steps, 1 month, by channel',
      `${funnel.last.groups.length} groups, ${funnel.last.groups.reduce((s, g) => s + (g.steps[0]?.customers ?? 0), 0).toLocaleString('en')} entered`,
      median(funnel.seconds).toFixed(2),
      Math.max(...funnel.seconds).toFixed(2),
      '< 3 s at 1M',
    ],
    [
      'explainMetricChange: ratio, 5 dimensions',
      `first cause ${change.last.explanations[0]?.members.map((m) => `${m.dimension}=${String(m.value)}`).join(' + ') ?? 'none'}`,
      median(change.seconds).toFixed(2),
      Math.max(...change.seconds).toFixed(2),
      '< 5 s at 1M',
    ],
  );
}
for (const dashboard of (domain.dashboards ?? []).filter((d) => dashboardsToo && (!only || only.includes(d.key)))) {
  const served = servedDashboard(dashboard, lastDay);
  const before = { ...answered };
  const run = await timed(() => Promise.all(served.tiles.map((tile) => runTile(tile.kind, tile.query as Record<string, unknown>))));
  const fromRollups = values.rollups
    ? `, ${answered.rollup - before.rollup} of ${answered.rollup - before.rollup + answered.raw - before.raw} queries from rollups`
    : '';
  rows.push([
    `dashboard ${dashboard.key}`,
    `${served.tiles.length} tiles at once${fromRollups}`,
    median(run.seconds).toFixed(2),
    Math.max(...run.seconds).toFixed(2),
    values.rollups ? '< 1 s at 1M' : '< 10 s at 1M',
  ]);
  // `--tiles`: each tile alone, once, to show which holds the dashboard back.
  if (values.tiles)
    for (const tile of served.tiles) {
      const started = performance.now();
      await runTile(tile.kind, tile.query as Record<string, unknown>);
      rows.push([`  tile ${tile.key} alone`, tile.kind, ((performance.now() - started) / 1000).toFixed(2), '', '']);
    }
}
if (values.floor) {
  // The year of the monthly trends, as the dashboards resolve it (the twelve months up to the last complete one).
  const trend = (domain.dashboards ?? []).flatMap((d) => servedDashboard(d, lastDay).tiles).find((t) => t.key === 'active_trend');
  const range = (trend?.query as { timeRange?: { from: string; to: string } } | undefined)?.timeRange;
  if (!range) throw new Error('no monthly trend tile to take the year from');
  const { from, to } = range;
  const zone = domain.catalog.models.find((m) => m.name === 'app_event')?.timeZone ?? 'UTC';
  const bound = (day: string) => sql`(CAST(${day} AS timestamp) AT TIME ZONE ${zone})`;
  const scan = await timed(() =>
    sql<{ n: number }>`SELECT COUNT(*) AS n FROM wealth.app_events WHERE occurred_at >= ${bound(from)} AND occurred_at < ${bound(to)}`.execute(db),
  );
  const months: string[] = [];
  for (const d = new Date(`${from}T00:00:00Z`); d.toISOString().slice(0, 10) < to; d.setUTCMonth(d.getUTCMonth() + 1))
    months.push(d.toISOString().slice(0, 10));
  const mau = await timed(async () => {
    const counts: number[] = [];
    for (const [i, month] of months.entries()) {
      const until = months[i + 1] ?? to;
      const { rows } = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM (SELECT customer_id FROM wealth.app_events
        WHERE occurred_at >= ${bound(month)} AND occurred_at < ${bound(until)} AND customer_id IS NOT NULL GROUP BY customer_id) AS active`.execute(db);
      counts.push(Number(rows[0]?.n ?? 0));
    }
    return counts;
  });
  rows.push(
    [
      `floor: read a year of events (${from} to ${to}), hand-written`,
      `${Number(scan.last.rows[0]?.n ?? 0).toLocaleString('en')} events`,
      median(scan.seconds).toFixed(2),
      Math.max(...scan.seconds).toFixed(2),
      'floor',
    ],
    [
      `floor: monthly active customers over the year, hand-written`,
      `${mau.last.length} months, last ${mau.last.at(-1)?.toLocaleString('en')}`,
      median(mau.seconds).toFixed(2),
      Math.max(...mau.seconds).toFixed(2),
      'floor',
    ],
  );
}
console.log(`data up to ${lastDay}`);
console.log(formatTable(['what', 'answer', `median s (${ROUNDS})`, 'max s', 'target'], rows));
console.log(`peak RSS: ${peakRssMb()} MB; load average at end ${loadAverage()[0].toFixed(2)}`);
await database.close();
