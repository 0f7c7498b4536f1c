import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { seedDecisionDefinitions } from '../services/decision-seed.ts';
import { decisionEnvironment } from '../services/decision-environment.ts';
import { createDecisionService, type DecideStage, type DecisionService } from '../services/decisions.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createProfileLoader, type ProfileLoader } from '../services/profiles.ts';
import { readImpressionCounts, readProfilesWithCounts } from '../store/decision-store.ts';
import { openDatabase } from '../store/database.ts';
import { viewerOf, DEFAULT_PRIVACY_K } from '../services/access.ts';
import { createPersonalDataLog, type PersonalDataLog } from '../store/personal-data-log.ts';
import { createEventCollector } from '../store/event-collector.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import type { DecisionDefinitions } from '../decisioning/definitions.ts';

/**
 * Fatigue through the real counters, with the decision clock moved across window edges: the
 * counters' days are cut in the reporting time zone (Asia/Shanghai) by the statement that
 * logs the impression, and `decide` reads them back.
 */

const TZ = 'Asia/Shanghai';
const card = { type: 'object', required: ['title'], properties: { title: { type: 'string' } } };
const content = (key: string, placement: string) => ({ key, placement, description: key, payload: { title: key }, validFrom: null, validTo: null });
const everyone = (key: string, placement: string, contents: string[]) => ({
  key,
  placement,
  description: key,
  audience: null,
  rule: null,
  contents,
  experiment: null,
  priority: 0,
  trafficShare: 1,
  scheduleFrom: null,
  scheduleTo: null,
});
const DEFINITIONS: DecisionDefinitions = {
  placements: [
    {
      key: 'rolling_slot',
      channel: 'app',
      page: 'p',
      description: 'three per 7 days per content',
      slots: 1,
      contentSchema: card,
      fallback: 'rolling_default',
      fatigue: [{ scope: 'CONTENT', maxImpressions: 3, windowDays: 7, period: null }],
    },
    {
      key: 'monthly_slot',
      channel: 'app',
      page: 'p',
      description: 'two per calendar month in the placement',
      slots: 1,
      contentSchema: card,
      fallback: 'monthly_default',
      fatigue: [{ scope: 'PLACEMENT', maxImpressions: 2, windowDays: null, period: 'MONTH' }],
    },
  ],
  contents: [
    content('rolling_default', 'rolling_slot'),
    content('rolling_a', 'rolling_slot'),
    content('monthly_default', 'monthly_slot'),
    content('monthly_a', 'monthly_slot'),
  ],
  strategies: [everyone('rolling_all', 'rolling_slot', ['rolling_a']), everyone('monthly_all', 'monthly_slot', ['monthly_a'])],
  experiments: [],
};

await describeEachEngine('fatigue through the counters on %s', (engine) => {
  let database: TestDatabase;
  let clock = new Date();
  let decide: (customer: string, placement: string) => Promise<{ key: string; fallback: boolean }>;
  let loader: () => ProfileLoader;
  let log: PersonalDataLog;
  let service: DecisionService;
  const stages: [DecideStage, number][] = [];

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 120, seed: 3 });
    const domain = bundledDomain();
    await materializeDomain(database, domain);
    const tags = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
    await seedDecisionDefinitions(database.db, database.changes, DEFINITIONS, await decisionEnvironment(domain, tags));
    const now = () => clock;
    const events = createEventCollector(database, domain.events, {
      channels: domain.channels,
      now,
      impressionCounting: { timeZone: TZ, eventName: 'placement_impression' },
    });
    service = createDecisionService({
      database,
      events,
      tags,
      timeZone: TZ,
      channels: domain.channels,
      now,
      observeStage: (stage, seconds) => stages.push([stage, seconds]),
    });
    const viewer = viewerOf({ name: 'test-app', role: 'app', clearance: 'personal', via: 'key' }, DEFAULT_PRIVACY_K);
    log = createPersonalDataLog(database.db);
    loader = () => createProfileLoader(database, tags, viewer, log, 'decide');
    decide = async (customer, placement) => {
      const profiles = createProfileLoader(database, tags, viewer, log, 'decide');
      const [answer] = await service.decide({ customerId: customer, placements: [placement], channel: null, idempotencyKey: null, profiles });
      return { key: answer?.content.key ?? '', fallback: answer?.fallback ?? false };
    };
  }, 300_000);
  afterAll(() => database?.dispose());

  const at = (iso: string) => {
    clock = new Date(iso);
  };

  it('caps a content over a rolling 7-day window cut in the reporting time zone, and frees it when the day leaves', async () => {
    // 2026-06-10T15:30Z is 23:30 on June 10 in Shanghai: three impressions on that day.
    at('2026-06-10T15:30:00Z');
    for (let i = 0; i < 3; i++) expect(await decide('c000001', 'rolling_slot')).toEqual({ key: 'rolling_a', fallback: false });
    expect(await decide('c000001', 'rolling_slot')).toEqual({ key: 'rolling_default', fallback: true });
    const { rows } = await sql<{ day: string; impressions: number }>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day, impressions FROM strata.placement_impression_counts
      WHERE customer_id = 'c000001' AND placement_id = 'rolling_slot' ORDER BY day, content_id`.execute(database.db);
    expect(rows).toEqual([
      { day: '2026-06-10', impressions: 3 },
      { day: '2026-06-10', impressions: 1 },
    ]);
    // June 16, 23:59 in Shanghai: June 10 is the seventh day back, still capped.
    at('2026-06-16T15:59:00Z');
    expect(await decide('c000001', 'rolling_slot')).toMatchObject({ fallback: true });
    // June 17, 00:00 in Shanghai (16:00Z on June 16): June 10 has left the window.
    at('2026-06-16T16:00:00Z');
    expect(await decide('c000001', 'rolling_slot')).toEqual({ key: 'rolling_a', fallback: false });
  });

  it('caps a placement for the calendar month in the reporting time zone, fallback impressions included', async () => {
    at('2026-06-30T10:00:00Z'); // June 30, 18:00 in Shanghai
    expect(await decide('c000002', 'monthly_slot')).toEqual({ key: 'monthly_a', fallback: false });
    expect(await decide('c000002', 'monthly_slot')).toEqual({ key: 'monthly_a', fallback: false });
    expect(await decide('c000002', 'monthly_slot')).toEqual({ key: 'monthly_default', fallback: true });
    at('2026-06-30T15:59:59Z'); // 23:59:59 on June 30 in Shanghai
    expect(await decide('c000002', 'monthly_slot')).toMatchObject({ fallback: true });
    at('2026-06-30T16:00:00Z'); // July 1 in Shanghai: a new month
    expect(await decide('c000002', 'monthly_slot')).toEqual({ key: 'monthly_a', fallback: false });
  });

  it('reads a profile with its counters in one statement exactly as load and the counter probe answer them, and logs the read', async () => {
    at('2026-06-12T02:00:00Z');
    await decide('c000003', 'rolling_slot');
    const since = '2026-06-01';
    const expected = await Promise.all([loader().load('c000003'), readImpressionCounts(database, 'c000003', since)]);
    const one = loader();
    const [profile, counts] = await one.loadWithCounts('c000003', since);
    expect(profile).toEqual(expected[0]);
    expect(profile?.tags.length).toBeGreaterThan(0);
    expect([...counts].sort((a, b) => a.content.localeCompare(b.content))).toEqual([...expected[1]].sort((a, b) => a.content.localeCompare(b.content)));
    expect(counts).toEqual([{ placement: 'rolling_slot', content: 'rolling_a', day: '2026-06-12', impressions: 1 }]);
    // The request's loader now holds the profile read: a later load of it asks nothing more.
    expect(await one.load('c000003')).toBe(profile);
    // An unknown customer: no profile, no counters.
    expect(await loader().loadWithCounts('nobody', since)).toEqual([null, []]);
    await log.flush();
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM strata.personal_data_reads
      WHERE operation = 'decide' AND 'c000003' = ANY(customer_ids)`.execute(database.db);
    expect(rows[0]?.n).toBeGreaterThan(0);
  });

  it('answers the reads of concurrent decisions in one turn each with its own customer, day and counters', async () => {
    at('2026-06-13T02:00:00Z');
    await decide('c000004', 'rolling_slot');
    await decide('c000004', 'monthly_slot');
    await decide('c000005', 'rolling_slot');
    const key = (c: { content: string }) => c.content;
    const alone = async (id: string, since: string) => {
      const [profile, counts] = await loader().loadWithCounts(id, since);
      return [profile, [...counts].sort((a, b) => key(a).localeCompare(key(b)))] as const;
    };
    // Each read alone (one per turn), then all of them started in the same turn.
    const asks: [string, string][] = [
      ['c000004', '2026-06-01'],
      ['c000004', '2026-06-14'],
      ['c000005', '2026-06-01'],
      ['nobody', '2026-06-01'],
      ['c000004', '2026-06-01'],
    ];
    const expected = [];
    for (const [id, since] of asks) expected.push(await alone(id, since));
    const together = await Promise.all(asks.map(([id, since]) => alone(id, since)));
    expect(together).toEqual(expected);
    expect(expected[0]?.[1].map(key)).toEqual(['monthly_a', 'rolling_a']);
    expect(expected[1]?.[1]).toEqual([]);
    expect(expected[2]?.[0]?.id).toBe('c000005');
    expect(expected[2]?.[1].map(key)).toEqual(['rolling_a']);
    expect(expected[3]).toEqual([null, []]);
  });

  it.runIf(engine === 'postgres')('reads several customers from the cached generic plan, not planned again on every execution', async () => {
    // One connection, so the statement and the catalogue of its plans are on the same backend.
    const one = await openDatabase({ databaseUrl: database.url, poolSize: 1 });
    try {
      const keys = ['c000004', 'c000005', 'nobody'].map((id) => ({ id, since: '2026-06-01' }));
      for (let i = 0; i < 8; i += 1) expect((await readProfilesWithCounts(one, keys)).map((row) => row.customer_id)).toEqual(['c000004', 'c000005', null]);
      const [plans] = await one.prepared<{ generic_plans: number; custom_plans: number }>(
        'test_read_plans',
        `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'strata_read_profiles_with_counts'`,
        [],
      );
      // PostgreSQL plans the first five executions for their parameters, then keeps the generic plan.
      expect(plans).toEqual({ generic_plans: 3, custom_plans: 5 });
    } finally {
      await one.close();
    }
  });

  it('reports the waits for the profile read and the impression commit of each decision, and none for a retry that logs nothing', async () => {
    at('2026-06-20T04:00:00Z');
    stages.length = 0;
    const request = { customerId: 'c000007', placements: ['rolling_slot', 'monthly_slot'], channel: null, idempotencyKey: 'stage-metric-0001' };
    const first = await service.decide({ ...request, profiles: loader() });
    expect(stages.map(([stage]) => stage)).toEqual(['profile_read', 'impression_write']);
    for (const [, seconds] of stages) expect(Number.isFinite(seconds)).toBe(true);
    stages.length = 0;
    const retried = await service.decide({ ...request, profiles: loader() });
    expect(retried.map((a) => a.decisionId)).toEqual(first.map((a) => a.decisionId));
    expect(stages).toEqual([]);
  });
});
