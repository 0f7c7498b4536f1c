import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { seedDecisionDefinitions } from '../services/decision-seed.ts';
import { decisionEnvironment } from '../services/decision-environment.ts';
import { createDecisionService, type DecisionAnswer } from '../services/decisions.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createProfileLoader } from '../services/profiles.ts';
import { viewerOf, DEFAULT_PRIVACY_K } from '../services/access.ts';
import { createPersonalDataLog } from '../store/personal-data-log.ts';
import { createEventCollector, type EventCollector } from '../store/event-collector.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { experimentResults } from '../services/experiment-results.ts';
import type { DecisionDefinitions } from '../decisioning/definitions.ts';
import * as experimentExposures from '../migrations/0026-experiment-exposures.ts';
import * as setBasedExposures from '../migrations/0030-set-based-exposures.ts';

/**
 * `strata.experiment_exposures` (migration 0026) against the events it summarizes: exposures
 * logged by `decide` (retried with an idempotency key too) and sent through ingestion (a
 * resent batch, another arm, an exposure older than the first one logged, anonymous and
 * customer-less ones) each leave one row per experiment and customer, equal to what the
 * exposure events give when grouped by customer; the migration's backfill rebuilds the same
 * rows; and experiment results equal counts computed from the events here.
 */

const TZ = 'Asia/Shanghai';
const EXPERIMENT = 'copy_check';
const card = { type: 'object', required: ['title'], properties: { title: { type: 'string' } } };
const content = (key: string) => ({ key, placement: 'test_banner', description: key, payload: { title: key }, validFrom: null, validTo: null });
const DEFINITIONS: DecisionDefinitions = {
  placements: [
    { key: 'test_banner', channel: 'app', page: 'home', description: 'banner', slots: 1, contentSchema: card, fallback: 'test_default', fatigue: [] },
  ],
  contents: [content('test_default'), content('test_plain'), content('test_social')],
  experiments: [
    {
      key: EXPERIMENT,
      placement: 'test_banner',
      description: 'copy',
      seed: EXPERIMENT,
      coverage: 1,
      variants: [
        { key: 'control', weight: 0.5, content: 'test_plain' },
        { key: 'treatment', weight: 0.5, content: 'test_social' },
      ],
      holdoutShare: null,
      goal: { metric: null, event: 'purchase_success', windowDays: 7 },
      guardrails: [],
    },
  ],
  strategies: [
    {
      key: 'test_everyone',
      placement: 'test_banner',
      description: 'everyone enters the test',
      audience: null,
      rule: null,
      contents: [],
      experiment: EXPERIMENT,
      priority: 0,
      trafficShare: 1,
      scheduleFrom: null,
      scheduleTo: null,
    },
  ],
};

type Row = { experiment: string; customer_id: string; v0: string | null; v1: string | null; first_at: string };

/** The table's rows, and the same summary computed from the exposure events. */
async function tableRows(db: Kysely<any>): Promise<Row[]> {
  const { rows } = await sql<Row>`SELECT experiment, customer_id, variant_low AS v0, variant_high AS v1, first_exposed_at::text AS first_at
    FROM strata.experiment_exposures ORDER BY 1, 2`.execute(db);
  return rows;
}
async function fromEvents(db: Kysely<any>): Promise<Row[]> {
  const { rows } = await sql<Row>`SELECT properties ->> 'experiment' AS experiment, customer_id, MIN(properties ->> 'variant') AS v0,
      MAX(properties ->> 'variant') AS v1, MIN(occurred_at)::text AS first_at
    FROM wealth.app_events WHERE event_name = 'placement_impression' AND customer_id IS NOT NULL AND properties ->> 'experiment' IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  return rows;
}

await describeEachEngine('experiment exposures table on %s', (engine) => {
  let database: TestDatabase;
  let clock = new Date('2026-06-10T02:00:00Z');
  let events: EventCollector;
  let decide: (customer: string, idempotencyKey?: string) => Promise<DecisionAnswer>;
  let customers: string[];
  const answers = new Map<string, DecisionAnswer>();

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 40, seed: 5 });
    const domain = bundledDomain();
    await materializeDomain(database, domain);
    const tags = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
    await seedDecisionDefinitions(database.db, database.changes, DEFINITIONS, await decisionEnvironment(domain, tags));
    const now = () => clock;
    events = createEventCollector(database, domain.events, {
      channels: domain.channels,
      now,
      impressionCounting: { timeZone: TZ, eventName: 'placement_impression' },
    });
    const service = createDecisionService({ database, events, tags, timeZone: TZ, channels: domain.channels, now });
    const viewer = viewerOf({ name: 'test-app', role: 'app', clearance: 'personal', via: 'key' }, DEFAULT_PRIVACY_K);
    const log = createPersonalDataLog(database.db);
    decide = async (customer, idempotencyKey) => {
      const profiles = createProfileLoader(database, tags, viewer, log, 'decide');
      const [answer] = await service.decide({
        customerId: customer,
        placements: ['test_banner'],
        channel: null,
        idempotencyKey: idempotencyKey ?? null,
        profiles,
      });
      return answer as DecisionAnswer;
    };
    const { rows } = await sql<{ id: string }>`SELECT customer_id AS id FROM strata.current_profiles ORDER BY 1 LIMIT 30`.execute(database.db);
    customers = rows.map((r) => r.id);
  }, 300_000);
  afterAll(() => database?.dispose());

  const at = (hours: number) => new Date(Date.UTC(2026, 5, 10, 2) + hours * 3_600_000).toISOString();
  const exposure = (id: string, customer: string | null, variant: string, hours: number) => ({
    eventId: id,
    name: 'placement_impression',
    ...(customer ? { customerId: customer } : { anonymousId: 'visitor-1' }),
    occurredAt: at(hours),
    channel: 'app',
    placementId: 'test_banner',
    properties: { experiment: EXPERIMENT, variant, decision_id: id, content_id: 'test_plain' },
  });

  it('records each decided customer once, whatever the retries and repeated decisions', async () => {
    for (const c of customers.slice(0, 20)) answers.set(c, await decide(c));
    // A retried decision (same idempotency key) logs nothing more; a later decision is one more exposure of the same arm.
    const first = await decide(customers[20] as string, 'retry-key-0001');
    expect((await decide(customers[20] as string, 'retry-key-0001')).decisionId).toBe(first.decisionId);
    answers.set(customers[20] as string, first);
    clock = new Date(at(1));
    for (const c of customers.slice(0, 5)) expect((await decide(c)).variant).toBe(answers.get(c)?.variant);
    const rows = await tableRows(database.db);
    expect(rows).toEqual(await fromEvents(database.db));
    expect(rows.map((r) => r.customer_id)).toEqual([...answers.keys()].sort());
    for (const row of rows) {
      expect(row.v0).toBe(answers.get(row.customer_id)?.variant);
      expect(row.v1).toBe(row.v0);
      expect(new Date(row.first_at).toISOString()).toBe(at(0));
    }
  });

  it('records ingested exposures once: resent batches, another arm, an earlier exposure, customers never decided', async () => {
    const [a, b] = customers as [string, string];
    const other = (customer: string) => (answers.get(customer)?.variant === 'control' ? 'treatment' : 'control');
    const batch = [
      exposure('ing-1', a, other(a), 2),
      exposure('ing-2', b, answers.get(b)?.variant as string, -30),
      exposure('ing-3', customers[25] as string, 'treatment', 3),
      exposure('ing-4', customers[25] as string, 'treatment', -2),
      exposure('ing-5', null, 'control', 1),
    ];
    clock = new Date(at(4));
    expect(await events.track(batch)).toMatchObject({ accepted: 5, duplicates: 0 });
    const before = await tableRows(database.db);
    // The same batch again, and the same event ids with other content: duplicates, nothing changes.
    expect(await events.track(batch)).toMatchObject({ accepted: 0, duplicates: 5 });
    expect(await events.track([exposure('ing-2', b, other(b), -60)])).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await tableRows(database.db)).toEqual(before);
    expect(before).toEqual(await fromEvents(database.db));
    const byCustomer = new Map(before.map((r) => [r.customer_id, r]));
    expect(byCustomer.get(a)).toMatchObject({ v0: 'control', v1: 'treatment' });
    expect(new Date(byCustomer.get(b)?.first_at as string).toISOString()).toBe(at(-30));
    expect(byCustomer.get(customers[25] as string)).toMatchObject({ v0: 'treatment', v1: 'treatment' });
    expect(new Date(byCustomer.get(customers[25] as string)?.first_at as string).toISOString()).toBe(at(-2));
    expect(before).toHaveLength(answers.size + 1);
  });

  it('logs concurrent and retried decisions exactly once through the shared statements, and overlapping batches do not deadlock', async () => {
    clock = new Date(at(5));
    // Customers decided before and customers never exposed (not the one ingested in another arm).
    const group = [...customers.slice(0, 20), ...customers.slice(26, 30)];
    const eventsBefore = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM wealth.app_events WHERE event_name = 'placement_impression'`.execute(
      database.db,
    );
    // Every customer decided three times at once with one idempotency key (a client retrying
    // before the first answer), and once more without: the concurrent calls share statements.
    const keyed = group.map((_c, i) => `concurrent-key-${String(i).padStart(4, '0')}`);
    const settled = await Promise.all(group.flatMap((c, i) => [decide(c, keyed[i]), decide(c, keyed[i]), decide(c), decide(c, keyed[i])]));
    for (let i = 0; i < group.length; i++) {
      const [a, b, fresh, c] = settled.slice(i * 4, i * 4 + 4) as [DecisionAnswer, DecisionAnswer, DecisionAnswer, DecisionAnswer];
      expect(b.decisionId).toBe(a.decisionId);
      expect(c.decisionId).toBe(a.decisionId);
      expect(fresh.decisionId).not.toBe(a.decisionId);
      expect(fresh.variant).toBe(a.variant);
    }
    const logged = await sql<{ n: number; ids: number }>`SELECT COUNT(*)::int AS n, COUNT(DISTINCT event_id)::int AS ids FROM wealth.app_events
      WHERE event_name = 'placement_impression'`.execute(database.db);
    // Two decisions per customer: the keyed one (however often it was sent) and the fresh one.
    expect(logged.rows[0]?.n).toBe((eventsBefore.rows[0]?.n ?? 0) + 2 * group.length);
    expect(logged.rows[0]?.ids).toBe(logged.rows[0]?.n);
    // Overlapping ingestion batches, in opposite customer orders, sent together and resent.
    const arm = (c: string) => answers.get(c)?.variant ?? (settled[group.indexOf(c) * 4] as DecisionAnswer).variant ?? 'control';
    const forward = group.map((c, i) => exposure(`ovl-f-${i}`, c, arm(c), 4.5));
    const backward = [...group].reverse().map((c, i) => exposure(`ovl-b-${i}`, c, arm(c), 4.8));
    const outcomes = await Promise.all([events.track(forward), events.track(backward), events.track(forward), events.track(backward)]);
    expect(outcomes.reduce((sum, o) => sum + o.accepted, 0)).toBe(2 * group.length);
    expect(await tableRows(database.db)).toEqual(await fromEvents(database.db));
  });

  it('gives results equal to counts computed from the events, and the backfill rebuilds the same rows', async () => {
    // Conversions: some inside the 7 days after the first exposure, one before it, one too late.
    const purchase = (id: string, customer: string, hours: number) => ({
      eventId: id,
      name: 'purchase_success',
      customerId: customer,
      occurredAt: at(hours),
      channel: 'app',
      productId: 'p0001',
      properties: { amount: 100 },
    });
    const goal = customers.slice(0, 12).map((c, i) => purchase(`buy-${i}`, c, i % 4 === 0 ? -5 : i % 4 === 3 ? 24 * 8 : 10 + i));
    clock = new Date(at(24 * 9));
    expect(await events.track(goal)).toMatchObject({ accepted: goal.length });
    const layer = createSemanticLayer(bundledDomain().catalog, { maxRows: 1000, subject: 'customer' });
    const input = {
      key: EXPERIMENT,
      variants: [
        { key: 'control', weight: 0.5 },
        { key: 'treatment', weight: 0.5 },
      ],
      goal: { event: 'purchase_success', windowDays: 7 },
    };
    const results = await experimentResults(database.db as never, input, { semantic: layer, subject: 'customer' });
    const { rows } = await sql<{ variant: string | null; n: number; conversions: number }>`
      WITH first AS (
        SELECT customer_id, MIN(properties ->> 'variant') AS v0, MAX(properties ->> 'variant') AS v1, MIN(occurred_at) AS first_at
        FROM wealth.app_events WHERE event_name = 'placement_impression' AND properties ->> 'experiment' = ${EXPERIMENT} AND customer_id IS NOT NULL
        GROUP BY customer_id)
      SELECT CASE WHEN v0 = v1 THEN v0 END AS variant, COUNT(*)::int AS n,
        COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM wealth.app_events g WHERE g.customer_id = f.customer_id AND g.event_name = 'purchase_success'
          AND g.occurred_at >= f.first_at AND g.occurred_at < f.first_at + interval '7 days'))::int AS conversions
      FROM first f GROUP BY 1 ORDER BY 1`.execute(database.db);
    const expected = new Map(rows.map((r) => [r.variant, r]));
    expect(results.multipleExposures).toBe(expected.get(null)?.n ?? 0);
    expect(results.multipleExposures).toBe(1);
    for (const v of results.variants) {
      expect(v.exposures).toBe(expected.get(v.key)?.n);
      expect(v.conversions).toBe(expected.get(v.key)?.conversions);
    }
    expect(results.variants.reduce((sum, v) => sum + (v.conversions ?? 0), 0)).toBeGreaterThan(0);
    // The migration again: its backfill from the events gives the rows the trigger kept.
    const kept = await tableRows(database.db);
    await setBasedExposures.down(database.db as never);
    await experimentExposures.down(database.db as never);
    await experimentExposures.up(database.db as never);
    await setBasedExposures.up(database.db as never);
    expect(await tableRows(database.db)).toEqual(kept);
    expect(await experimentResults(database.db as never, input, { semantic: layer, subject: 'customer' })).toEqual(results);
  });
});
