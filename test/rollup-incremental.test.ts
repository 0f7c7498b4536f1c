import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { withContributorCounts } from '../modeling/privacy/contributor-catalog.ts';
import { rollupBuild } from '../modeling/plan/rollup-refresh.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { refreshRollups, rollupFreshnessCheck, type RefreshOutcome } from '../services/rollups.ts';
import { ingestEvents } from '../store/event-store.ts';
import { markRollupsStale } from '../store/rollup-marks.ts';
import { canonicalRows } from './support/canonical-rows.ts';

/**
 * Incremental refresh (issue 20): rollups sliced by customer dimensions keep their
 * per-customer rows, and a period that ingestion touched recomputes only the touched
 * customers. After every kind of change (events of customers active in the month, of
 * customers new to it, anonymous events and events of an unknown customer, a late first
 * purchase in an older month, deletions marked with their customers, a bulk mark) the
 * stored rows of every rollup must equal a full rebuild: each rollup's own statement over
 * raw tables, and the raw answers of the semantic layer.
 */
const SUBJECT = 'customer';
const FAMILY = ['core_monthly', 'core_monthly_by__customer__channel', 'core_monthly_by__customer__gender', 'core_monthly_by__customer__risk_level'];
type Row = Record<string, unknown>;

await describeEachEngine('incremental rollup refresh equals a full rebuild on %s', (engine) => {
  let database: TestDatabase;
  const { catalog } = bundledDomain();
  const counted = indexCatalog(withContributorCounts(catalog, SUBJECT).catalog);
  let month = '';
  let next = '';

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 300, seed: 31 });
    const built = await refreshRollups(database.db, catalog, { subject: SUBJECT, only: FAMILY });
    expect(built.partitions).toBeGreaterThan(FAMILY.length);
    // The last month with events (Shanghai), where a day of new events lands.
    const { rows } = await sql<{ m: string; n: string }>`SELECT to_char(date_trunc('month', MAX(occurred_at) AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD') AS m,
      to_char(date_trunc('month', MAX(occurred_at) AT TIME ZONE 'Asia/Shanghai') + interval '1 month', 'YYYY-MM-DD') AS n FROM wealth.app_events`.execute(
      database.db,
    );
    month = rows[0]?.m as string;
    next = rows[0]?.n as string;
  }, 600_000);
  afterAll(() => database.dispose());

  /** Every rollup's stored rows against its own statement over raw tables (a full rebuild), every period. */
  async function expectSameAsRebuild(): Promise<void> {
    for (const name of FAMILY) {
      const build = rollupBuild(counted, name);
      const stored = await sql<Row>`SELECT * FROM ${sql.table(`rollups.${build.rollup.table}`)}`.execute(database.db);
      const own = await sql<Row>`SELECT * FROM (${build.statement({ from: '2000-01-01', to: '2100-01-01' })}) AS own`.execute(database.db);
      expect(stored.rows.length, name).toBeGreaterThan(0);
      expect(canonicalRows(stored.rows), name).toEqual(canonicalRows(own.rows));
    }
    const stale = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM rollups.partitions WHERE rollup = ANY (${FAMILY}) AND version > refreshed_version`.execute(
      database.db,
    );
    expect(Number(stale.rows[0]?.n)).toBe(0);
  }

  /** A refresh of the family, with what each partition recomputed (touched customers, or undefined for the whole period). */
  async function refresh(): Promise<{ outcome: RefreshOutcome; touched: Map<string, number | undefined> }> {
    const touched = new Map<string, number | undefined>();
    const outcome = await refreshRollups(database.db, catalog, {
      subject: SUBJECT,
      only: FAMILY,
      onPartition: (p) => touched.set(`${p.rollup} ${p.period}`, p.customers),
    });
    return { outcome, touched };
  }

  const event = (id: string, name: string, customerId: string | null, occurredAt: string) => ({
    eventId: `incremental-${engine}-${id}`,
    name,
    ...(customerId ? { customerId } : { anonymousId: `anon-${id}` }),
    occurredAt,
    channel: 'app',
    ...(name === 'placement_click' || name === 'placement_impression' ? { placementId: 'home_banner' } : {}),
    properties: {},
    personalProperties: [],
  });

  it('after a day of events recomputes only the touched customers, active or new to the month, anonymous or unknown', async () => {
    const { rows: active } = await sql<{ customer_id: string }>`SELECT DISTINCT customer_id FROM wealth.app_events
      WHERE customer_id IS NOT NULL AND occurred_at >= (CAST(${month} AS timestamp) AT TIME ZONE 'Asia/Shanghai') ORDER BY 1 LIMIT 4`.execute(database.db);
    const { rows: absent } = await sql<{ customer_id: string }>`SELECT c.customer_id FROM wealth.customers c WHERE NOT EXISTS (
      SELECT 1 FROM wealth.app_events e WHERE e.customer_id = c.customer_id AND e.occurred_at >= (CAST(${month} AS timestamp) AT TIME ZONE 'Asia/Shanghai'))
      ORDER BY 1 LIMIT 3`.execute(database.db);
    expect(active.length).toBe(4);
    expect(absent.length).toBe(3);
    const day = `${month.slice(0, 8)}03`;
    const events = [...active, ...absent].flatMap(({ customer_id: c }, i) => [
      event(`open-${i}`, 'app_open', c, `${day}T01:0${i}:00.000Z`),
      event(`revisit-${i}`, 'app_open', c, `${month.slice(0, 8)}06T01:0${i}:00.000Z`),
      event(`click-${i}`, 'placement_click', c, `${day}T02:0${i}:00.000Z`),
      event(`impression-${i}`, 'placement_impression', c, `${day}T02:0${i}:00.000Z`),
      event(`submit-${i}`, 'purchase_submit', c, `${day}T03:0${i}:00.000Z`),
      ...(i % 2 === 0 ? [event(`success-${i}`, 'purchase_success', c, `${day}T04:0${i}:00.000Z`)] : []),
    ]);
    events.push(event('anonymous', 'placement_impression', null, `${day}T05:00:00.000Z`));
    events.push(event('unknown', 'app_open', 'no-such-customer', `${day}T05:00:00.000Z`));
    expect((await ingestEvents(database, events as never)).accepted).toBe(events.length);
    const { outcome, touched } = await refresh();
    expect(outcome.partitions).toBeGreaterThanOrEqual(FAMILY.length);
    await expectSameAsRebuild();
    // The month of the events: the 7 customers and the row without a known customer, not everyone.
    for (const name of FAMILY) expect(touched.get(`${name} ${month}`), name).toBe(8);
    // And the semantic layer answers the month from the rollup as it does from raw tables.
    const query = {
      metrics: ['active_customers', 'purchase_conversion_rate', 'first_purchase_success_rate', 'revisit_rate_7d', 'placement_ctr'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' as const }, { dimension: 'customer.channel' }],
      timeRange: { from: month, to: next },
    };
    const fromRollups = createSemanticLayer(catalog, { maxRows: 10_000, subject: SUBJECT, rollupFreshness: rollupFreshnessCheck(catalog, SUBJECT) });
    const raw = createSemanticLayer(catalog, { maxRows: 10_000, subject: SUBJECT });
    const a = await fromRollups.query(database.db, query);
    const b = await raw.query(database.db, { ...query, useRollups: false });
    expect(a.freshness.source).toBe('ROLLUP');
    expect(canonicalRows(a.rows as Row[])).toEqual(canonicalRows(b.rows as Row[]));
    // Touches every stored period has seen are gone.
    const left = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM rollups.touches`.execute(database.db);
    expect(Number(left.rows[0]?.n)).toBe(0);
  }, 600_000);

  it('a late first purchase_submit in an older month restales the later months of that customer (first-ever conversion)', async () => {
    // A customer whose first purchase_submit is at least two months after the first month with events.
    const { rows } = await sql<{ customer_id: string; first: string; start: string }>`
      WITH bounds AS (SELECT date_trunc('month', MIN(occurred_at) AT TIME ZONE 'Asia/Shanghai') AS start FROM wealth.app_events)
      SELECT f.customer_id, to_char(f.first AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS first, to_char(bounds.start, 'YYYY-MM-DD') AS start
      FROM (SELECT customer_id, MIN(occurred_at) AS first FROM wealth.app_events WHERE event_name = 'purchase_submit' AND customer_id IS NOT NULL GROUP BY 1) AS f, bounds
      WHERE f.first AT TIME ZONE 'Asia/Shanghai' >= bounds.start + interval '2 months' ORDER BY f.first DESC, 1 LIMIT 1`.execute(database.db);
    const late = rows[0];
    expect(late).toBeDefined();
    const at = `${late?.start.slice(0, 8)}15T03:00:00.000Z`;
    expect((await ingestEvents(database, [event('late-submit', 'purchase_submit', late?.customer_id as string, at)] as never)).accepted).toBe(1);
    const { touched } = await refresh();
    await expectSameAsRebuild();
    // The month of the first submit before was recomputed, for that one customer.
    const firstMonth = `${late?.first.slice(0, 8)}01`;
    for (const name of FAMILY) expect(touched.get(`${name} ${firstMonth}`), name).toBe(1);
  }, 600_000);

  it('deletions marked with their customers recompute those customers; a mark without customers recomputes the whole period', async () => {
    const { rows } = await sql<{ customer_id: string }>`SELECT customer_id FROM wealth.app_events
      WHERE customer_id IS NOT NULL AND occurred_at >= (CAST(${month} AS timestamp) AT TIME ZONE 'Asia/Shanghai') GROUP BY 1 ORDER BY COUNT(*) DESC, 1 LIMIT 2`.execute(
      database.db,
    );
    const ids = rows.map((r) => r.customer_id);
    const from = new Date(Date.parse(`${month}T00:00:00+08:00`));
    const to = new Date(Date.parse(`${next}T00:00:00+08:00`) - 1);
    await database.db.transaction().execute(async (trx) => {
      await sql`DELETE FROM wealth.app_events WHERE customer_id = ANY (${ids}) AND occurred_at >= ${from.toISOString()} AND occurred_at <= ${to.toISOString()}`.execute(
        trx,
      );
      await markRollupsStale(trx, 'wealth.app_events', from, to, ids);
    });
    const first = await refresh();
    for (const name of FAMILY) expect(first.touched.get(`${name} ${month}`), name).toBe(2);
    await expectSameAsRebuild();
    // A correction written without naming customers: every customer of the period.
    await sql`UPDATE wealth.app_events SET event_name = 'page_view' WHERE event_id IN (
      SELECT event_id FROM wealth.app_events WHERE event_name = 'app_open' AND occurred_at >= ${from.toISOString()} ORDER BY event_id LIMIT 5)`.execute(
      database.db,
    );
    await markRollupsStale(database.db, 'wealth.app_events', from, to);
    const second = await refresh();
    for (const name of FAMILY) {
      expect(second.touched.has(`${name} ${month}`), name).toBe(true);
      expect(second.touched.get(`${name} ${month}`), name).toBeUndefined();
    }
    await expectSameAsRebuild();
  }, 600_000);
});
