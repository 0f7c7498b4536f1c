import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { seedDemoDecisions } from '../api/demo-decisions.ts';
import { createDecisionService, withoutBuiltFields, type DecisionService } from '../services/decisions.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createProfileLoader } from '../services/profiles.ts';
import { viewerOf, DEFAULT_PRIVACY_K } from '../services/access.ts';
import { createPersonalDataLog } from '../store/personal-data-log.ts';
import { createEventCollector, type EventCollector } from '../store/event-collector.ts';
import { createEventValidator, type ValidEvent } from '../modeling/events/validate-event.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';

/**
 * `decide` logs its impressions through the collector's `trackBuilt`, without re-validating
 * them: each event it builds must be exactly what the event validator returns for the event
 * as `decide` sent it before (as a client would), for every kind of decision (strategies,
 * experiment arms, fatigue, fallbacks, unknown customers, a channel given or not, retries);
 * `trackBuilt` still refuses an `occurredAt` out of range as `track` does, and leaves an
 * event it has no definition of to `track`.
 */

const TZ = 'Asia/Shanghai';

await describeEachEngine('decide impressions on %s', (engine) => {
  let database: TestDatabase;
  let service: DecisionService;
  let collector: EventCollector;
  const built: ValidEvent[] = [];
  const checked: unknown[] = [];
  let decide: (customer: string, placements: string[], channel: string | null, key: string | null) => Promise<unknown>;
  const domain = bundledDomain();

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 80, seed: 21 });
    await materializeDomain(database, domain);
    await seedDemoDecisions(database, domain);
    const tags = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
    collector = createEventCollector(database, domain.events, {
      channels: domain.channels,
      impressionCounting: { timeZone: TZ, eventName: 'placement_impression' },
    });
    // The collector as the service sees it, keeping what it was handed.
    const watched: EventCollector = {
      maxBatchSize: collector.maxBatchSize,
      track: (events) => {
        checked.push(...(events as unknown[]));
        return collector.track(events);
      },
      trackBuilt: (events) => {
        built.push(...events);
        return collector.trackBuilt(events);
      },
    };
    service = createDecisionService({ database, events: watched, tags, timeZone: TZ, channels: domain.channels });
    const viewer = viewerOf({ name: 'test-app', role: 'app', clearance: 'personal', via: 'key' }, DEFAULT_PRIVACY_K);
    const log = createPersonalDataLog(database.db);
    decide = (customer, placements, channel, key) =>
      service.decide({ customerId: customer, placements, channel, idempotencyKey: key, profiles: createProfileLoader(database, tags, viewer, log, 'decide') });
  }, 300_000);
  afterAll(async () => {
    service?.close();
    await database?.dispose();
  });

  it('builds each impression exactly as the validator returns it for the event as sent, and stores it', async () => {
    const { rows } = await sql<{ customer_id: string }>`SELECT customer_id FROM strata.current_profiles ORDER BY customer_id`.execute(database.db);
    const customers = [...rows.map((r) => r.customer_id), 'nobody-known', '顾客-42'];
    const placements = ['home_banner', 'wealth_mall_top', 'mini_program_home'];
    for (const [i, customer] of customers.entries()) {
      // Several rounds for some customers, so fatigue caps and fallbacks are reached too.
      for (let round = 0; round < (i % 5 === 0 ? 12 : 1); round++) {
        await decide(
          customer,
          i % 2 === 0 ? placements : placements.slice(0, 2),
          i % 3 === 0 ? 'web' : null,
          i % 4 === 0 ? `imp-${engine}-${i}-${round}` : null,
        );
      }
    }
    expect(checked).toEqual([]);
    const validate = createEventValidator({ definitions: domain.events, channels: domain.channels });
    const now = new Date();
    const kinds = new Set<string>();
    for (const event of built) {
      expect(validate(withoutBuiltFields(event), now)).toEqual({ kind: 'valid', event });
      const p = event.properties;
      kinds.add(p.fallback ? 'fallback' : p.variant ? 'experiment' : 'strategy');
    }
    expect([...kinds].sort()).toEqual(['experiment', 'fallback', 'strategy']);
    const { rows: stored } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM wealth.app_events WHERE event_id = ANY(${built.map((e) => e.eventId)}::text[])`.execute(database.db);
    expect(stored[0]?.n).toBe(built.length);
    // A retry logs nothing more.
    const before = built.length;
    await decide(customers[0] as string, placements, 'web', `imp-${engine}-0-0`);
    expect(built.length).toBe(before);
  });

  it('refuses an occurredAt out of range in trackBuilt as track does, and leaves undefined events to track', async () => {
    const old = { ...(built[0] as ValidEvent), eventId: `dec_old_${engine}`, occurredAt: '2020-01-01T00:00:00.000Z' };
    const fromTrack = await collector.track([withoutBuiltFields(old)]);
    const fromBuilt = await collector.trackBuilt([old]);
    expect(fromTrack.rejected).toHaveLength(1);
    expect(fromBuilt).toEqual(fromTrack);
    const unknown = { ...(built[0] as ValidEvent), eventId: `dec_unknown_${engine}`, name: 'no_such_event' };
    expect(await collector.trackBuilt([unknown])).toEqual(await collector.track([withoutBuiltFields(unknown)]));
  });
});
