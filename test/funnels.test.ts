import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import type { FunnelQuery } from '../modeling/query/funnel-query.ts';
import type { FunnelResult } from '../modeling/plan/compile-funnel-query.ts';
import { StrataError } from '../modeling/errors.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { wealthModels } from '../domains/wealth/models.ts';
import { defineFunnel } from '../modeling/dsl/define-funnel.ts';
import { CatalogValidationError } from '../modeling/catalog/validation-error.ts';
import { compileFunnelQuery } from '../modeling/plan/compile-funnel-query.ts';

/**
 * Funnels (API.md "Monitoring"): entry at the first step-1 event in the range; step n strictly
 * after the matched step n-1 and at most windowHours after the entry. Checked on planted
 * edges (window edge, same timestamp, repeated steps, events before the range) and against a
 * hand-written statement on random events, grouped and not.
 */

const RANGE = { from: '2026-09-01', to: '2026-10-01' };
/** 2026-09-10 08:00 in Shanghai. */
const T0 = Date.parse('2026-09-10T00:00:00Z');
const hours = (h: number) => new Date(T0 + h * 3_600_000).toISOString();
const FLOW = ['app_open', 'product_view', 'purchase_submit', 'purchase_success'];

interface PlantedEvent {
  readonly customer: string;
  readonly event: string;
  readonly at: string;
  readonly channel?: string;
  readonly properties?: Record<string, unknown>;
}

/** Customers of the planted edges, each with the step they should reach in FLOW (168 h). */
const EDGES: { customer: string; channel: string; reaches: number; events: [string, string][] }[] = [
  // Same timestamp: a product view at the entry's instant does not follow it; the one an hour later does.
  // Window edge: a submit exactly 168 h after entry counts; a success one second later does not.
  {
    customer: 'e_same_time',
    channel: 'app',
    reaches: 3,
    events: [
      ['app_open', hours(0)],
      ['product_view', hours(0)],
      ['product_view', hours(1)],
      ['purchase_submit', hours(168)],
      ['purchase_success', new Date(T0 + 168 * 3_600_000 + 1000).toISOString()],
    ],
  },
  // Only the same-timestamp view: stops at step 1.
  {
    customer: 'e_tie_only',
    channel: 'app',
    reaches: 1,
    events: [
      ['app_open', hours(2)],
      ['product_view', hours(2)],
    ],
  },
  // Out of order: the submit comes before the view, so the flow stops at the view.
  {
    customer: 'e_out_of_order',
    channel: 'web',
    reaches: 2,
    events: [
      ['app_open', hours(0)],
      ['purchase_submit', hours(1)],
      ['product_view', hours(2)],
      ['purchase_success', hours(3)],
    ],
  },
  // An open before the range is not the entry; the one in the range is, and the window runs from it.
  {
    customer: 'e_entry_in_range',
    channel: 'web',
    reaches: 4,
    events: [
      ['app_open', '2026-08-31T15:00:00Z'],
      ['product_view', '2026-08-31T15:30:00Z'],
      ['app_open', hours(10)],
      ['product_view', hours(11)],
      ['purchase_submit', hours(12)],
      ['purchase_success', hours(13)],
    ],
  },
  // Steps after the range end still count within the window.
  {
    customer: 'e_late_steps',
    channel: 'app',
    reaches: 4,
    events: [
      ['app_open', '2026-09-30T15:00:00Z'],
      ['product_view', '2026-09-30T16:30:00Z'],
      ['purchase_submit', '2026-10-01T01:00:00Z'],
      ['purchase_success', '2026-10-02T01:00:00Z'],
    ],
  },
  // Opens only after the range (2026-10-01 00:30 Shanghai): never enters.
  {
    customer: 'e_after',
    channel: 'app',
    reaches: 0,
    events: [
      ['app_open', '2026-09-30T16:30:00Z'],
      ['product_view', '2026-09-30T17:00:00Z'],
    ],
  },
];

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random events for many customers, with repeated steps and coarse (minute) times so that ties happen. */
function randomEvents(count: number, seed: number): PlantedEvent[] {
  const next = random(seed);
  const events: PlantedEvent[] = [];
  const names = [...FLOW, 'page_view'];
  for (let c = 0; c < count; c++) {
    const n = 1 + Math.floor(next() * 14);
    for (let i = 0; i < n; i++) {
      // 2026-08-25 .. 2026-10-08, on whole 30-minute steps.
      const minutes = Math.floor(next() * 44 * 48) * 30;
      events.push({
        customer: `r${c}`,
        event: names[Math.floor(next() * names.length)] as string,
        at: new Date(Date.parse('2026-08-24T16:00:00Z') + minutes * 60_000).toISOString(),
        channel: next() < 0.5 ? 'app' : 'wechat_miniprogram',
        properties: { source: next() < 0.5 ? 'search' : 'placement' },
      });
    }
  }
  return events;
}

async function plant(database: TestDatabase, customers: { id: string; channel: string; risk: string }[], events: PlantedEvent[]): Promise<void> {
  for (let i = 0; i < customers.length; i += 500) {
    const chunk = customers.slice(i, i + 500);
    await database.db
      .withSchema('wealth')
      .insertInto('customers' as never)
      .values(
        chunk.map((c) => ({
          customer_id: c.id,
          registered_at: '2025-01-01T00:00:00Z',
          channel: c.channel,
          city_tier: 1,
          age_band: '25-34',
          gender: 'f',
          risk_level: c.risk,
          account_class: 'type1',
        })) as never,
      )
      .execute();
  }
  for (let i = 0; i < events.length; i += 1000) {
    const chunk = events.slice(i, i + 1000);
    await database.db
      .withSchema('wealth')
      .insertInto('app_events' as never)
      .values(
        chunk.map((e, j) => ({
          event_id: `ev${i + j}`,
          customer_id: e.customer,
          event_name: e.event,
          occurred_at: e.at,
          channel: e.channel ?? 'app',
          properties: JSON.stringify(e.properties ?? {}),
        })) as never,
      )
      .execute();
  }
}

interface Reference {
  group: string | null;
  counts: number[];
}

/** The funnel written by hand: entry by MIN, each later step a LATERAL probe, grouped by today's customer column. */
async function reference(
  database: TestDatabase,
  steps: readonly string[],
  windowHours: number,
  group: 'channel' | 'risk_level' | null,
  stepSource: string | null = null,
): Promise<Reference[]> {
  const probes = steps.slice(1).map((event, i) => {
    const n = i + 2;
    const sourceFilter = stepSource && event === 'product_view' ? sql`AND a.properties ->> 'source' = ${stepSource}` : sql``;
    return sql`LEFT JOIN LATERAL (SELECT MIN(a.occurred_at) AS t FROM wealth.app_events a
        WHERE a.customer_id = e.customer_id AND a.event_name = ${event} ${sourceFilter}
          AND a.occurred_at > ${sql.ref(`p${n - 1}.t`)}
          AND a.occurred_at <= e.t + make_interval(hours => ${windowHours})) ${sql.ref(`p${n}`)} ON true`;
  });
  const counts = steps.map((_, i) => (i === 0 ? sql`COUNT(*)::int AS c1` : sql`COUNT(${sql.ref(`p${i + 1}.t`)})::int AS ${sql.ref(`c${i + 1}`)}`));
  const groupColumn = group ? sql`c.${sql.ref(group)}` : sql`NULL::text`;
  const { rows } = await sql<Record<string, unknown>>`
    WITH e AS (
      SELECT customer_id, MIN(occurred_at) AS t FROM wealth.app_events
      WHERE event_name = ${steps[0]} AND customer_id IS NOT NULL
        AND occurred_at >= TIMESTAMP '2026-09-01 00:00' AT TIME ZONE 'Asia/Shanghai'
        AND occurred_at < TIMESTAMP '2026-10-01 00:00' AT TIME ZONE 'Asia/Shanghai'
      GROUP BY customer_id)
    SELECT ${groupColumn} AS g, ${sql.join(counts)}
    FROM e CROSS JOIN LATERAL (SELECT e.t) p1 ${sql.join(probes, sql` `)}
    JOIN wealth.customers c ON c.customer_id = e.customer_id
    GROUP BY 1 ORDER BY 1`.execute(database.db);
  return rows.map((r) => ({ group: (r.g as string | null) ?? null, counts: steps.map((_, i) => Number(r[`c${i + 1}`])) }));
}

function countsOf(result: FunnelResult, column?: string): Reference[] {
  return result.groups
    .map((g) => ({ group: column ? ((g.dimensions[column] as string | null) ?? null) : null, counts: g.steps.map((s) => s.customers ?? -1) }))
    .sort((a, b) => String(a.group).localeCompare(String(b.group)));
}

const byGroup = (rows: Reference[]) => [...rows].sort((a, b) => String(a.group).localeCompare(String(b.group)));

describe('funnel definitions', () => {
  it('lists the seed flow in the catalog and refuses a malformed funnel', () => {
    const catalog = wealthCatalog();
    expect(catalog.funnels?.find((f) => f.name === 'purchase_flow')?.steps.map((s) => s.event)).toEqual(FLOW);
    const bad = defineFunnel({ name: 'bad', description: 'x', owner: 'o', steps: ['app_open'], windowHours: 0 });
    const badFilter = defineFunnel({
      name: 'bad_filter',
      description: 'x',
      owner: 'o',
      steps: ['app_open', { event: 'product_view', filter: { dimension: 'app_event.nope', op: 'EQ', values: ['x'] } }],
      windowHours: 1,
    });
    expect(() => buildCatalog({ models: wealthModels, metrics: [], funnels: [bad] })).toThrow(CatalogValidationError);
    expect(() =>
      buildCatalog({ models: wealthModels, metrics: [], eventStream: { model: 'app_event', entity: 'customer_id', eventName: 'event_name' }, funnels: [bad] }),
    ).toThrow(/2 to 10 steps/);
    expect(() =>
      buildCatalog({
        models: wealthModels,
        metrics: [],
        eventStream: { model: 'app_event', entity: 'customer_id', eventName: 'event_name' },
        funnels: [badFilter],
      }),
    ).toThrow(/app_event.nope/);
  });
});

await describeEachEngine('funnels on %s', (engine) => {
  let database: TestDatabase;
  let layer: SemanticLayer;
  const run = (query: Omit<FunnelQuery, 'timeRange'> & { timeRange?: FunnelQuery['timeRange'] }, minSubjects?: number) =>
    layer.funnel(
      database.db,
      {
        timeRange: RANGE,
        propertyTypes: new Map([['product_view', new Map([['source', 'string' as const]])]]),
        ...query,
      },
      minSubjects === undefined ? undefined : { clearance: 'internal', minSubjects },
    );

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    const randomCustomers = Array.from({ length: 400 }, (_, i) => ({
      id: `r${i}`,
      channel: i % 3 === 0 ? 'app' : i % 3 === 1 ? 'web' : 'branch',
      risk: `C${1 + (i % 5)}`,
    }));
    await plant(
      database,
      [...EDGES.map((e) => ({ id: e.customer, channel: e.channel, risk: 'C3' })), ...randomCustomers],
      [...EDGES.flatMap((e) => e.events.map(([event, at]) => ({ customer: e.customer, event, at }))), ...randomEvents(400, 11)],
    );
    layer = createSemanticLayer(wealthCatalog(), { maxRows: 10_000, subject: 'customer' });
  }, 120_000);
  afterAll(() => database?.dispose());

  it('follows the window edge, same-timestamp, order and range rules on planted customers', async () => {
    const result = await run({
      funnel: 'purchase_flow',
      groupBy: [{ dimension: 'customer.customer_id' }],
      where: { kind: 'compare', dimension: 'customer.customer_id', op: 'STARTS_WITH', values: ['e_'] },
    });
    const reached = Object.fromEntries(result.groups.map((g) => [g.dimensions.customer__customer_id, g.steps.filter((s) => (s.customers ?? 0) > 0).length]));
    expect(reached).toEqual(Object.fromEntries(EDGES.filter((e) => e.reaches > 0).map((e) => [e.customer, e.reaches])));
    const sameTime = result.groups.find((g) => g.dimensions.customer__customer_id === 'e_same_time');
    // Median from the previous step: the view an hour after entry, the submit 167 hours after it.
    expect(sameTime?.steps.map((s) => s.medianSecondsFromPrevious)).toEqual([null, 3600, 167 * 3600, null]);
  });

  it('equals the hand-written statement on random events with repeated steps, ungrouped and grouped', async () => {
    const everyone = await run({ funnel: 'purchase_flow' });
    const expected = await reference(database, FLOW, 168, null);
    expect(countsOf(everyone)).toEqual(expected);
    expect(expected[0]?.counts[3]).toBeGreaterThan(0);
    const grouped = await run({ funnel: 'purchase_flow', groupBy: [{ dimension: 'customer.channel' }] });
    expect(countsOf(grouped, 'customer__channel')).toEqual(byGroup(await reference(database, FLOW, 168, 'channel')));
    const short = await run({ steps: FLOW.map((event) => ({ event })), windowHours: 5, groupBy: [{ dimension: 'customer.risk_level' }] });
    expect(countsOf(short, 'customer__risk_level')).toEqual(byGroup(await reference(database, FLOW, 5, 'risk_level')));
  });

  it('counts a repeated step only on a later occurrence', async () => {
    const repeat = ['app_open', 'app_open', 'app_open'];
    const result = await run({ steps: repeat.map((event) => ({ event })), windowHours: 72 });
    expect(countsOf(result)).toEqual(await reference(database, repeat, 72, null));
    const steps = result.groups[0]?.steps ?? [];
    expect(steps[1]?.customers).toBeLessThan(steps[0]?.customers ?? 0);
  });

  it('filters a step by an event property in the one condition language', async () => {
    const steps = FLOW.map((event) =>
      event === 'product_view'
        ? { event, filter: { kind: 'compare' as const, dimension: 'property.source', op: 'EQ' as const, values: ['search'] } }
        : { event },
    );
    const result = await run({ steps, windowHours: 168 });
    expect(countsOf(result)).toEqual(await reference(database, FLOW, 168, null, 'search'));
    await expect(
      run({
        steps: [{ event: 'app_open' }, { event: 'product_view', filter: { kind: 'compare', dimension: 'property.nope', op: 'EQ', values: ['x'] } }],
        windowHours: 1,
      }),
    ).rejects.toThrow(StrataError);
  });

  it('hides steps under the privacy threshold, and every ratio that would reveal them', async () => {
    const result = await run({ funnel: 'purchase_flow', groupBy: [{ dimension: 'customer.channel' }] }, 40);
    const plain = await run({ funnel: 'purchase_flow', groupBy: [{ dimension: 'customer.channel' }] });
    let hidden = 0;
    for (const [g, group] of result.groups.entries()) {
      for (const [i, step] of group.steps.entries()) {
        const count = plain.groups[g]?.steps[i]?.customers ?? 0;
        expect(step.suppressed).toBe(count < 40);
        if (step.suppressed) {
          hidden++;
          expect([step.customers, step.conversionFromFirst, step.conversionFromPrevious, step.medianSecondsFromPrevious]).toEqual([null, null, null, null]);
        }
      }
    }
    expect(hidden).toBeGreaterThan(0);
  });

  it('refuses bad input with coded errors', async () => {
    const codeOf = async (query: Parameters<typeof run>[0]) => {
      try {
        await run(query);
        return 'none';
      } catch (error) {
        return error instanceof StrataError ? error.code : String(error);
      }
    };
    expect(await codeOf({ funnel: 'nope' })).toBe('UNKNOWN_MEMBER');
    expect(await codeOf({ steps: [{ event: 'app_open' }], windowHours: 5 })).toBe('BAD_USER_INPUT');
    expect(await codeOf({ funnel: 'purchase_flow', groupBy: [{ dimension: 'customer.nope' }] })).toBe('UNKNOWN_MEMBER');
    expect(await codeOf({ funnel: 'purchase_flow', timeRange: { from: '2026-10-01', to: '2026-09-01' } })).toBe('BAD_USER_INPUT');
  });

  it('reads each step as a set, only from the partitions the range and window reach', async () => {
    // September (Shanghai) plus the 168-hour window reaches 2026-10-08: of the monthly
    // partitions of the events, no other month is read (July and December exist to be skipped).
    const partitions = async () =>
      (
        await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'wealth.app_events'::regclass`.execute(database.db)
      ).rows.map(({ name }) => name);
    for (const [month, from, to] of [
      ['2026_07', '2026-06-30T16:00:00Z', '2026-07-31T16:00:00Z'],
      ['2026_12', '2026-11-30T16:00:00Z', '2026-12-31T16:00:00Z'],
    ] as const) {
      if ((await partitions()).some((name) => name.endsWith(month))) continue;
      await sql`CREATE TABLE ${sql.table(`wealth.app_events_p${month}`)} PARTITION OF wealth.app_events
        FOR VALUES FROM (${sql.lit(from)}) TO (${sql.lit(to)})`.execute(database.db);
    }
    const plan = compileFunnelQuery(layer.index, { funnel: 'purchase_flow', timeRange: RANGE }, { maxRows: 100 });
    const { rows } = await database.db.executeQuery({ ...plan.compiled, sql: `EXPLAIN ${plan.compiled.sql}` } as typeof plan.compiled);
    const lines = rows.map((r) => String(Object.values(r)[0])).join('\n');
    // No probe per entered customer: later steps are joined, not correlated subqueries.
    expect(lines).not.toMatch(/SubPlan/);
    const read = (await partitions()).filter((name) => new RegExp(`\\b${name}\\b`).test(lines));
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((name) => /_p\d{4}_\d{2}$/.test(name) && !/_p2026_(09|10)$/.test(name))).toEqual([]);
  });
});
