import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../store/database.ts';
import type { EventCollector } from '../store/event-collector.ts';
import { coalesceEvents, type CoalescedEvents } from '../store/coalesced-events.ts';
import { readLoggedDecisions, type LoggedDecision } from '../store/decision-store.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { tagValueType } from '../modeling/tags/tag-definition.ts';
import type { ValueType } from '../modeling/conditions/compare.ts';
import { buildDecisionModel, type DecisionModel, type TargetedCustomer } from '../decisioning/decision-model.ts';
import { decidePlacement, type PlacementDecision } from '../decisioning/decide-placement.ts';
import { earliestWindowStart } from '../decisioning/fatigue.ts';
import { localDay } from '../decisioning/calendar-days.ts';
import { PLACEMENT_IMPRESSION_EVENT } from '../decisioning/placement-tracking.ts';
import type { ValidEvent } from '../modeling/events/validate-event.ts';
import { isStorableText } from '../modeling/storable-text.ts';
import type { ContentSpec } from '../decisioning/definitions.ts';
import { createDecisionCache, type DecisionCache } from './decision-registry.ts';
import type { TagRuntime } from './tag-runtime.ts';
import type { Profile, ProfileLoader } from './profiles.ts';

/** One placement's answer of `decide`, as API.md shapes it. */
export interface DecisionAnswer extends Omit<PlacementDecision, 'content'> {
  readonly decisionId: string;
  readonly content: { readonly key: string; readonly payload: unknown };
}

export interface DecideRequest {
  readonly customerId: string;
  readonly placements: readonly string[];
  readonly channel: string | null;
  /**
   * The client's key for this request: a retry with the same key, customer and placements gets
   * the decision ids (and answers) of the first call, and logs nothing twice.
   */
  readonly idempotencyKey: string | null;
  /** The caller's view of profiles (scoped, masked by clearance, reads logged), read with the fatigue counters. */
  readonly profiles: ProfileLoader;
}

export interface DecisionService {
  decide(request: DecideRequest): Promise<DecisionAnswer[]>;
  /** The compiled definitions this instance serves (cached; refreshed on every change). */
  model(): Promise<DecisionModel>;
  readonly cache: DecisionCache<(types: TagTypes) => DecisionModel>;
  close(): void;
}

type TagTypes = ReadonlyMap<string, ValueType>;

export interface DecisionServiceOptions {
  readonly database: Database;
  readonly events: EventCollector;
  readonly tags: TagRuntime;
  readonly timeZone: string;
  readonly channels: readonly string[];
  /** The decision clock; tests pass a fixed one. */
  readonly now?: () => Date;
  /**
   * Told how long each decision waited in its two database stages (the server's
   * `strata_decide_stage_seconds`): `profile_read`, the profile with its fatigue counters
   * (coalesced with other decisions' reads), and `impression_write`, until its impressions
   * were committed (group commit: the batch in flight, then its own). A retry that logs
   * nothing new waits in neither and reports neither.
   */
  readonly observeStage?: (stage: DecideStage, seconds: number) => void;
  /**
   * Impression statements written at once (default 1): with 2, a decision arriving while one
   * batch is being committed starts the next at the end of its turn rather than waiting for that commit
   * (group commit, store/coalesced-events.ts); measured on a CPU-bound 2-core machine, two
   * meant smaller batches and a higher p50, so one stays the default.
   */
  readonly impressionBatchesInFlight?: number;
  /** Validate the built impressions again like a client's events (default no: they are valid by construction; for comparisons). */
  readonly revalidateImpressions?: boolean;
}

/** The waits of `decide` that `observeStage` reports. */
export type DecideStage = 'profile_read' | 'impression_write';

/** The most placements one `decide` call may ask for. */
export const MAX_PLACEMENTS_PER_DECISION = 10;

/**
 * The decision id of a placement in a request: with an idempotency key, derived from it, the
 * customer and the placement (so a retry gets the same id and the impression's primary key
 * refuses the second copy); without one, new and time-ordered (`timeOrderedId`).
 */
export function decisionIdFor(customerId: string, placement: string, idempotencyKey: string | null): string {
  if (idempotencyKey === null) return `dec_${timeOrderedId(Date.now())}`;
  return `dec_${createHash('sha256').update(`${customerId}\u0000${idempotencyKey}\u0000${placement}`).digest('hex').slice(0, 32)}`;
}

/**
 * 32 hex digits laid out like a UUIDv7's: the milliseconds since 1970 (12 digits), then 80
 * random bits. The id is the impression's key in `wealth.app_event_keys` and leads the primary
 * key of `wealth.app_events`; ids that grow with time land on the right edge of those B-trees,
 * pages that are already in memory and already logged since the last checkpoint, where random
 * ids dirty a random leaf page each (on a table of millions of events: one read and one
 * full-page image in the WAL per impression and index, most of the write's cost).
 */
export function timeOrderedId(milliseconds: number): string {
  return `${milliseconds.toString(16).padStart(12, '0').slice(-12)}${randomHex()}`;
}

/** Random hex digits drawn 10 bytes at a time from a pool refilled from `randomBytes` every 4 KiB (one call into the CSPRNG per 409 ids, not per id). */
const RANDOM_POOL_BYTES = 4090;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function randomHex(): string {
  if (randomOffset + 10 > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomOffset = 0;
  }
  const hex = randomPool.toString('hex', randomOffset, randomOffset + 10);
  randomOffset += 10;
  return hex;
}

function checkRequest(request: DecideRequest, channels: readonly string[]): void {
  if (!request.customerId || request.customerId.length > 128) throw new StrataError('BAD_USER_INPUT', 'customerId: 1-128 characters');
  if (request.placements.length === 0 || request.placements.length > MAX_PLACEMENTS_PER_DECISION)
    throw new StrataError('BAD_USER_INPUT', `placements: from 1 to ${MAX_PLACEMENTS_PER_DECISION} placement keys`);
  if (new Set(request.placements).size !== request.placements.length) throw new StrataError('BAD_USER_INPUT', 'placements: a placement is listed twice');
  if (request.idempotencyKey !== null && (request.idempotencyKey.length < 8 || request.idempotencyKey.length > 128))
    throw new StrataError('BAD_USER_INPUT', 'idempotencyKey: 8-128 characters, unique per request (a UUID)');
  if (request.channel !== null && !channels.includes(request.channel))
    throw new StrataError('BAD_USER_INPUT', `context.channel: ${quoteInput(request.channel)} is not a channel (one of ${channels.join(', ')})`);
}

/**
 * `decide`: the customer's profile and their fatigue counters (one statement, two primary-key probes), the
 * pure decision per placement over the cached definitions, then every decision logged as a
 * `placement_impression` through the event collector, which adds to the fatigue counters in
 * the same statement.
 */
export function createDecisionService(options: DecisionServiceOptions): DecisionService {
  const { database, tags, timeZone } = options;
  // Concurrent decisions log their impressions together: one statement and one commit for many.
  const inFlight = options.impressionBatchesInFlight ?? 1;
  const impressions: Impressions = {
    built: coalesceEvents(options.events, { inFlight, built: true }),
    checked: coalesceEvents(options.events, { inFlight }),
    revalidate: options.revalidateImpressions === true,
  };
  const now = options.now ?? (() => new Date());
  const observe = options.observeStage ?? (() => {});
  const cache = createDecisionCache(database.db, database.changes, (registry) => {
    const byTypes = new WeakMap<TagTypes, DecisionModel>();
    return (types: TagTypes) => {
      let model = byTypes.get(types);
      if (!model) {
        model = buildDecisionModel(registry.live, { dimensionType: () => 'string', tagType: (key) => types.get(key) ?? 'string' }, timeZone);
        byTypes.set(types, model);
      }
      return model;
    };
  });
  const typesOf = new WeakMap<object, TagTypes>();
  const model = async (): Promise<DecisionModel> => {
    const [{ model: compiled }, registry] = await Promise.all([cache.current(), tags.registry()]);
    let types = typesOf.get(registry);
    if (!types) typesOf.set(registry, (types = new Map([...registry.live].map(([key, tag]) => [key, tagValueType(tag)]))));
    return compiled(types);
  };

  return {
    cache,
    model,
    close: cache.close,
    async decide(request) {
      checkRequest(request, options.channels);
      const served = await model();
      const placements = request.placements.map((key) => {
        const placement = served.placements.get(key);
        const why = served.incomplete.get(key);
        if (why) throw new StrataError('NOT_FOUND', `placements: placement ${quoteInput(key)} is published but not served: ${why}`);
        if (!placement)
          throw new StrataError('BAD_USER_INPUT', `placements: no live placement ${quoteInput(key)} (live: ${[...served.placements.keys()].join(', ')})`);
        return placement;
      });
      const ids = request.placements.map((p) => decisionIdFor(request.customerId, p, request.idempotencyKey));
      const logged = request.idempotencyKey === null ? new Map<string, LoggedDecision>() : await loggedById(database, ids);
      const at = now();
      const pending = placements.filter((_p, i) => !logged.has(ids[i] as string));
      // The profile and the fatigue counters are read at once (two connections on PostgreSQL).
      const since = earliestWindowStart(
        pending.map((p) => p.spec),
        localDay(at, timeZone),
      );
      const readAt = performance.now();
      const [profile, allCounts] = pending.length > 0 ? await request.profiles.loadWithCounts(request.customerId, since) : [null, []];
      if (pending.length > 0) observe('profile_read', (performance.now() - readAt) / 1000);
      const customer = targeted(request.customerId, profile);
      const counts = customer.known ? allCounts : [];
      const answers: DecisionAnswer[] = placements.map((placement, i) => {
        const decisionId = ids[i] as string;
        const before = logged.get(decisionId);
        if (before) return replayed(decisionId, placement.spec.key, before, placement.contents, placement.fallback);
        const decision = decidePlacement({ placement, customer, counts, now: at, timeZone });
        return { ...decision, decisionId, content: { key: decision.content.key, payload: decision.content.payload } };
      });
      const writeAt = performance.now();
      if (await logImpressions(impressions, request, answers, logged, at, placements)) observe('impression_write', (performance.now() - writeAt) / 1000);
      return answers;
    },
  };
}

async function loggedById(database: Database, ids: readonly string[]): Promise<Map<string, LoggedDecision>> {
  return new Map((await readLoggedDecisions(database, ids)).map((row) => [row.event_id, row]));
}

function targeted(id: string, profile: Profile | null): TargetedCustomer {
  if (!profile) return { id, known: false, tags: {}, audiences: new Set() };
  const tags: Record<string, unknown> = {};
  for (const tag of profile.tags) if (!tag.masked) tags[tag.key] = tag.value;
  return { id, known: true, tags, audiences: new Set(profile.audiences) };
}

/** The answer a logged decision gave, with the content's current payload. */
function replayed(
  decisionId: string,
  placement: string,
  logged: LoggedDecision,
  contents: ReadonlyMap<string, ContentSpec>,
  fallback: ContentSpec,
): DecisionAnswer {
  const p = logged.properties;
  const text = (name: string) => (typeof p[name] === 'string' ? (p[name] as string) : null);
  // The content logged, with its payload as published now (null once it is retired).
  const key = text('content_id') ?? fallback.key;
  return {
    decisionId,
    placement,
    content: { key, payload: (contents.get(key) ?? (key === fallback.key ? fallback : null))?.payload ?? null },
    strategy: text('strategy_id'),
    experiment: text('experiment'),
    variant: text('variant'),
    fallback: p.fallback === true,
    reason: `${text('reason') ?? 'decided before'} (a retry: the decision logged first)`,
  };
}

/**
 * The impression queues: `built` stores the events as built (the collector's `trackBuilt`,
 * no re-validation), `checked` validates them like a client's (only for a customer id or a
 * reason with characters a validator refuses, which then fail the decision as before).
 */
interface Impressions {
  readonly built: CoalescedEvents;
  readonly checked: CoalescedEvents;
  /** Every impression through `checked` (for comparisons). */
  readonly revalidate: boolean;
}

/**
 * The `placement_impression` of one decision, as the event validator returns it for the
 * event sent as a client would send it (`withoutBuiltFields`): every field is right by
 * construction (a decision id, a checked customer id, a channel of the domain, a published
 * placement's key and page, declared properties of the right types, none personal, a
 * canonical UTC time), which test/decide-impressions.test.ts checks against the validator.
 */
export function impressionOf(
  request: Pick<DecideRequest, 'customerId' | 'channel'>,
  answer: DecisionAnswer,
  spec: { readonly channel: string; readonly page: string },
  at: Date,
): ValidEvent {
  return {
    eventId: answer.decisionId,
    name: PLACEMENT_IMPRESSION_EVENT,
    customerId: request.customerId,
    anonymousId: null,
    occurredAt: at.toISOString(),
    channel: request.channel ?? spec.channel,
    page: spec.page,
    placementId: answer.placement,
    productId: null,
    properties: {
      decision_id: answer.decisionId,
      content_id: answer.content.key,
      fallback: answer.fallback,
      reason: answer.reason.slice(0, 1000),
      position: 0,
      ...(answer.strategy ? { strategy_id: answer.strategy } : {}),
      ...(answer.experiment ? { experiment: answer.experiment } : {}),
      ...(answer.variant ? { variant: answer.variant } : {}),
    },
    personalProperties: [],
  };
}

/** The event as a client sends it (what `decide` passed to the validating collector before `trackBuilt`). */
export function withoutBuiltFields(event: ValidEvent): Record<string, unknown> {
  const { anonymousId: _a, productId: _p, personalProperties: _pp, ...sent } = event;
  return sent;
}

/** Whether the validator would take the built event's free texts as they are (a customer id or a cut reason may hold what it refuses). */
function storable(event: ValidEvent): boolean {
  return isStorableText(event.customerId as string) && isStorableText(event.properties.reason as string);
}

async function logImpressions(
  impressions: Impressions,
  request: DecideRequest,
  answers: readonly DecisionAnswer[],
  logged: ReadonlyMap<string, LoggedDecision>,
  at: Date,
  placements: readonly { spec: { channel: string; page: string } }[],
): Promise<boolean> {
  const fresh = answers.flatMap((answer, i) => {
    const spec = placements[i]?.spec;
    return logged.has(answer.decisionId) || !spec ? [] : [impressionOf(request, answer, spec, at)];
  });
  if (fresh.length === 0) return false;
  const rejected =
    !impressions.revalidate && fresh.every(storable) ? await impressions.built.track(fresh) : await impressions.checked.track(fresh.map(withoutBuiltFields));
  if (rejected.length > 0) throw new Error(`decision impressions were refused by the event collector: ${rejected.map((r) => r.message).join('; ')}`);
  return true;
}
