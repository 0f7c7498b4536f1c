import { indexEventDefinitions, type EventDefinition } from './define-event.ts';
import { createEnvelopeParser, type EventEnvelope, type Rejection } from './event-envelope.ts';
import { validateProperties } from './validate-properties.ts';
import { quoteInput } from '../quote-input.ts';

export type { Rejection, RejectionCode, EventEnvelope } from './event-envelope.ts';

/** Defaults for how far `occurredAt` may lie from the server's clock. */
export const DEFAULT_EVENT_MAX_PAST_DAYS = 30;
export const DEFAULT_EVENT_MAX_FUTURE_MINUTES = 5;

export interface EventRules {
  readonly definitions: readonly EventDefinition[];
  /** The channels an event may come from (the domain's `channel` values). */
  readonly channels: readonly string[];
  /** Events older than this many days are refused (late data would rewrite closed periods). */
  readonly maxPastDays?: number;
  /** Events further than this many minutes ahead are refused (a client clock gone wrong). */
  readonly maxFutureMinutes?: number;
}

/**
 * An event ready to store: envelope checked, `occurredAt` in UTC, properties normalized, and
 * the names of the properties it carries that are personal data (stored only as pseudonyms).
 */
export interface ValidEvent extends EventEnvelope {
  readonly personalProperties: readonly string[];
}

export type EventCheck =
  | { readonly kind: 'valid'; readonly event: ValidEvent }
  /** Well-formed, but no definition has its name: rejected, or quarantined when configured. */
  | { readonly kind: 'undeclared'; readonly event: ValidEvent; readonly rejection: Rejection }
  | { readonly kind: 'rejected'; readonly rejection: Rejection };

/** Checks one incoming event against the rules, as of `now`. Pure: same input, same answer. */
export type EventValidator = (input: unknown, now: Date) => EventCheck;

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * Compiles the rules once into a validator. Checks run in this order and the first failure
 * is reported: envelope (fields, types, lengths, channel, customerId or anonymousId),
 * `occurredAt` within bounds, known event name, fields the event requires, properties.
 *
 * ```ts
 * const validate = createEventValidator({ definitions: wealthEvents, channels: ['app', 'web'] });
 * const check = validate({ eventId: 'e-1', name: 'app_open', customerId: 'c1',
 *   occurredAt: '2026-06-01T08:00:00+08:00', channel: 'app' }, new Date('2026-06-01T00:05:00Z'));
 * // check.kind === 'valid', check.event.occurredAt === '2026-06-01T00:00:00.000Z'
 * ```
 */
export function createEventValidator(rules: EventRules): EventValidator {
  const definitions = indexEventDefinitions(rules.definitions);
  const parseEnvelope = createEnvelopeParser(rules.channels);

  const checkTime = occurredAtCheck(rules);
  return (input, now) => {
    const parsed = parseEnvelope(input);
    if (!parsed.ok) return rejected(parsed.rejection);
    const { envelope, occurredAtMs } = parsed.value;

    const outOfRange = checkTime(envelope.occurredAt, occurredAtMs, now);
    if (outOfRange) return rejected(outOfRange);
    const definition = definitions.get(envelope.name);
    if (!definition) {
      return {
        kind: 'undeclared',
        event: { ...envelope, personalProperties: [] },
        rejection: { code: 'UNKNOWN_EVENT', message: `no event named ${quoteInput(envelope.name)} is defined` },
      };
    }
    const absent = definition.requires.find((field) => envelope[field] === null);
    if (absent) return rejected({ code: 'MISSING_FIELD', message: `'${absent}' is required for ${definition.name}` });

    const properties = validateProperties(definition, envelope.properties);
    if (!properties.ok) return rejected(properties.rejection);
    const personalProperties = personalOf(definition).filter((name) => properties.value[name] !== undefined);
    return { kind: 'valid', event: { ...envelope, properties: properties.value, personalProperties } };
  };
}

/**
 * The validator's check of `occurredAt` against the clock alone (`maxPastDays`,
 * `maxFutureMinutes`), with the same rejection: for events the server builds itself
 * (store/event-collector.ts `trackBuilt`), whose other fields are right by construction.
 */
export function occurredAtCheck(
  rules: Pick<EventRules, 'maxPastDays' | 'maxFutureMinutes'>,
): (occurredAt: string, occurredAtMs: number, now: Date) => Rejection | null {
  const maxPastDays = rules.maxPastDays ?? DEFAULT_EVENT_MAX_PAST_DAYS;
  const maxFutureMinutes = rules.maxFutureMinutes ?? DEFAULT_EVENT_MAX_FUTURE_MINUTES;
  return (occurredAt, occurredAtMs, now) => {
    const ageMs = now.getTime() - occurredAtMs;
    if (ageMs > maxPastDays * DAY_MS)
      return { code: 'TIMESTAMP_OUT_OF_RANGE', message: `occurredAt ${occurredAt} is more than ${maxPastDays} days in the past` };
    if (-ageMs > maxFutureMinutes * MINUTE_MS) {
      return { code: 'TIMESTAMP_OUT_OF_RANGE', message: `occurredAt ${occurredAt} is more than ${maxFutureMinutes} minutes in the future` };
    }
    return null;
  };
}

const personalByDefinition = new WeakMap<EventDefinition, readonly string[]>();

/** The names of a definition's personal properties (`personal` or `restricted`). */
function personalOf(definition: EventDefinition): readonly string[] {
  let names = personalByDefinition.get(definition);
  if (!names) {
    names = definition.properties.filter((p) => p.pii).map((p) => p.name);
    personalByDefinition.set(definition, names);
  }
  return names;
}

function rejected(rejection: Rejection): EventCheck {
  return { kind: 'rejected', rejection };
}
