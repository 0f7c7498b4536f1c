import { z } from 'zod';
import { quoteInput } from '../quote-input.ts';
import { isStorableText, UNSTORABLE_MESSAGE } from '../storable-text.ts';

/** Why an incoming event was refused; the API returns it with the event's index. */
export type RejectionCode = 'UNKNOWN_EVENT' | 'MISSING_FIELD' | 'INVALID_FIELD' | 'INVALID_PROPERTY' | 'TIMESTAMP_OUT_OF_RANGE';

export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
}

/** The fields every event carries, whatever its name. */
export interface EventEnvelope {
  readonly eventId: string;
  readonly name: string;
  readonly customerId: string | null;
  readonly anonymousId: string | null;
  readonly occurredAt: string;
  readonly channel: string;
  readonly page: string | null;
  readonly placementId: string | null;
  readonly productId: string | null;
  readonly properties: Readonly<Record<string, unknown>>;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };

const OCCURRED_AT_HINT = 'must be an ISO-8601 date-time with a UTC offset, e.g. 2026-06-01T08:00:00+08:00';

/** Largest `properties` object accepted per event, in characters of JSON. */
export const MAX_PROPERTIES_LENGTH = 8 * 1024;

const UNSTORABLE_IN_JSON = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

const text = (max: number) => z.string().min(1).max(max);
const optionalText = (max: number) => text(max).nullish();
const TEXT_FIELDS = ['eventId', 'name', 'customerId', 'anonymousId', 'page', 'placementId', 'productId'] as const;

/**
 * Builds the envelope parser for a domain's channels; build it once, parse many times.
 * The envelope it returns has `occurredAt` in UTC (`2026-06-01T00:00:00.000Z`) and, in
 * `occurredAtMs`, the same instant in epoch milliseconds.
 */
export function createEnvelopeParser(channels: readonly string[]): (input: unknown) => Checked<{ envelope: EventEnvelope; occurredAtMs: number }> {
  const schema = z.strictObject({
    eventId: text(128),
    name: text(64),
    customerId: optionalText(128),
    anonymousId: optionalText(128),
    occurredAt: z.iso.datetime({ offset: true, message: OCCURRED_AT_HINT }),
    channel: z.enum(channels as [string, ...string[]]),
    page: optionalText(512),
    placementId: optionalText(128),
    productId: optionalText(128),
    properties: z.record(z.string(), z.unknown()).nullish(),
  });
  return (input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return refuse('INVALID_FIELD', 'an event must be a JSON object');
    }
    const parsed = schema.safeParse(input);
    if (!parsed.success) return { ok: false, rejection: rejectionOf(parsed.error.issues, input as Record<string, unknown>) };
    const e = parsed.data;
    if (e.customerId == null && e.anonymousId == null) {
      return refuse('MISSING_FIELD', 'an event needs customerId or anonymousId');
    }
    for (const field of TEXT_FIELDS) {
      const value = e[field];
      if (value != null && !isStorableText(value)) return refuse('INVALID_FIELD', `'${field}' ${UNSTORABLE_MESSAGE}`);
    }
    const occurredAtMs = Date.parse(e.occurredAt);
    const properties = e.properties ?? {};
    const json = JSON.stringify(properties);
    if (json.length > MAX_PROPERTIES_LENGTH) return refuse('INVALID_PROPERTY', `properties exceed ${MAX_PROPERTIES_LENGTH} characters of JSON`);
    if (UNSTORABLE_IN_JSON.test(json)) return refuse('INVALID_PROPERTY', `properties ${UNSTORABLE_MESSAGE}`);
    const envelope: EventEnvelope = {
      eventId: e.eventId,
      name: e.name,
      customerId: e.customerId ?? null,
      anonymousId: e.anonymousId ?? null,
      occurredAt: isCanonicalUtc(e.occurredAt) ? e.occurredAt : new Date(occurredAtMs).toISOString(),
      channel: e.channel,
      page: e.page ?? null,
      placementId: e.placementId ?? null,
      productId: e.productId ?? null,
      properties,
    };
    return { ok: true, value: { envelope, occurredAtMs } };
  };
}

/** Already what `toISOString` would print: skip the (costly) round trip. */
function isCanonicalUtc(value: string): boolean {
  return value.length === 24 && value.charCodeAt(23) === 90 /* Z */ && value.charCodeAt(19) === 46 /* . */;
}

export function refuse(code: RejectionCode, message: string): { readonly ok: false; readonly rejection: Rejection } {
  return { ok: false, rejection: { code, message } };
}

/** Turns the first zod issue into a rejection a client developer can act on. */
function rejectionOf(issues: readonly z.core.$ZodIssue[], input: Record<string, unknown>): Rejection {
  const missing = issues.find((i) => i.path.length === 1 && input[String(i.path[0])] == null);
  if (missing) return { code: 'MISSING_FIELD', message: `'${String(missing.path[0])}' is required` };
  const issue = issues[0];
  if (!issue) return { code: 'INVALID_FIELD', message: 'the event is invalid' };
  if (issue.code === 'unrecognized_keys') {
    const shown =
      issue.keys
        .slice(0, 5)
        .map((k) => quoteInput(k))
        .join(', ') + (issue.keys.length > 5 ? ', …' : '');
    return { code: 'INVALID_FIELD', message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${shown}` };
  }
  const field = String(issue.path[0] ?? 'event');
  if (field === 'properties') return { code: 'INVALID_FIELD', message: `'properties' must be a JSON object` };
  return { code: 'INVALID_FIELD', message: `'${field}' ${describe(issue)}` };
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return 'must not be empty';
    case 'custom':
      return issue.message;
    case 'too_big':
      return `must be at most ${String(issue.maximum)} characters`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_type':
      return `must be a ${issue.expected}`;
    default:
      return issue.message;
  }
}
