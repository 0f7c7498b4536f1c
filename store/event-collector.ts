import type { EventDefinition } from '../modeling/events/define-event.ts';
import { createEventValidator, occurredAtCheck, type RejectionCode, type ValidEvent } from '../modeling/events/validate-event.ts';
import { StrataError } from '../modeling/errors.ts';
import type { Database } from './database.ts';
import { ingestEvents, type ImpressionCounting, type QuarantinedEvent } from './event-store.ts';
import { createProtectionSource, type PersonalDataKeys } from './personal-data-source.ts';

/** The most events one `trackEvents` call or `POST /v1/events` request may carry. */
export const MAX_EVENTS_PER_BATCH = 1000;

export interface RejectedEvent {
  /** Position of the event in the submitted batch, from 0. */
  readonly index: number;
  readonly code: RejectionCode;
  readonly message: string;
}

/** What happened to a batch; every event is counted exactly once. */
export interface TrackResult {
  readonly accepted: number;
  readonly duplicates: number;
  /** Undeclared events kept for steward review (0 unless quarantine is on). */
  readonly quarantined: number;
  readonly rejected: readonly RejectedEvent[];
}

export interface EventCollectorOptions {
  readonly channels: readonly string[];
  readonly maxPastDays?: number;
  readonly maxFutureMinutes?: number;
  /** Keep events of unknown names in `strata.event_quarantine` instead of rejecting them. */
  readonly quarantineUndeclared?: boolean;
  readonly maxBatchSize?: number;
  /** The clock `occurredAt` is checked against; tests pass a fixed one. */
  readonly now?: () => Date;
  /**
   * Keys for personal properties. Without a pseudonym key the installation's generated one
   * is used (created in the database on first use); without an encryption key no copy is kept.
   */
  readonly personalData?: PersonalDataKeys;
  /** Keeps the fatigue counters of placement impressions in the statement that stores them (store/event-store.ts). */
  readonly impressionCounting?: ImpressionCounting;
}

/** Validates and stores behaviour events; `track` resolves only after the batch is committed. */
export interface EventCollector {
  readonly maxBatchSize: number;
  track(events: unknown): Promise<TrackResult>;
  /**
   * Stores events the server built itself from checked parts (`decide`'s impressions), in the
   * same statement `track` uses, without re-running the envelope and property validation they
   * pass by construction (the caller's test shows they validate to themselves); `occurredAt`
   * is still checked against this collector's clock, with `track`'s rejection.
   */
  trackBuilt(events: readonly ValidEvent[]): Promise<TrackResult>;
}

/**
 * Builds the collector both `trackEvents` and `POST /v1/events` use. Valid events are
 * kept even when others in the batch are rejected; a repeated `eventId` is a duplicate.
 *
 * ```ts
 * const collector = createEventCollector(database, wealthEvents, { channels: wealthChannels });
 * const { accepted, duplicates, rejected } = await collector.track(events);
 * ```
 */
export function createEventCollector(database: Database, definitions: readonly EventDefinition[], options: EventCollectorOptions): EventCollector {
  const validate = createEventValidator({ definitions, ...options });
  const checkTime = occurredAtCheck(options);
  const defined = new Set(definitions.map((d) => d.name));
  const maxBatchSize = options.maxBatchSize ?? MAX_EVENTS_PER_BATCH;
  const now = options.now ?? (() => new Date());
  const protection = createProtectionSource(database, options.personalData ?? {});

  const store = async (valid: readonly ValidEvent[], quarantine: readonly QuarantinedEvent[], rejected: readonly RejectedEvent[]): Promise<TrackResult> => {
    const personal = valid.some((e) => e.personalProperties.length > 0) || quarantine.length > 0;
    const outcome = await ingestEvents(database, valid, quarantine, personal ? await protection() : undefined, options.impressionCounting);
    return { ...outcome, rejected };
  };

  return {
    maxBatchSize,
    async track(input) {
      if (!Array.isArray(input)) throw new StrataError('BAD_USER_INPUT', 'events must be a JSON array of event objects');
      if (input.length > maxBatchSize) {
        throw new StrataError('BAD_USER_INPUT', `a batch holds at most ${maxBatchSize} events; got ${input.length}`, { maxEvents: maxBatchSize });
      }
      const at = now();
      const valid: ValidEvent[] = [];
      const quarantine: QuarantinedEvent[] = [];
      const rejected: RejectedEvent[] = [];
      input.forEach((raw: unknown, index) => {
        const check = validate(raw, at);
        if (check.kind === 'valid') valid.push(check.event);
        else if (check.kind === 'undeclared' && options.quarantineUndeclared) {
          quarantine.push({ eventId: check.event.eventId, name: check.event.name, raw, reason: check.rejection.message });
        } else rejected.push({ index, ...check.rejection });
      });
      return store(valid, quarantine, rejected);
    },
    async trackBuilt(events) {
      // An event this collector has no definition of is refused or quarantined as `track` does it.
      if (events.some((e) => !defined.has(e.name))) return this.track(events.map(({ personalProperties: _, ...sent }) => sent));
      if (events.length > maxBatchSize) throw new StrataError('BAD_USER_INPUT', `a batch holds at most ${maxBatchSize} events; got ${events.length}`);
      const at = now();
      const valid: ValidEvent[] = [];
      const rejected: RejectedEvent[] = [];
      events.forEach((event, index) => {
        const outOfRange = checkTime(event.occurredAt, Date.parse(event.occurredAt), at);
        if (outOfRange) rejected.push({ index, ...outOfRange });
        else valid.push(event);
      });
      return store(valid, [], rejected);
    },
  };
}
