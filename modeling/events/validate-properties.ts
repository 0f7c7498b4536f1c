import { z } from 'zod';
import type { EventDefinition, EventProperty } from './define-event.ts';
import { refuse, type Checked } from './event-envelope.ts';
import { MAX_ECHOED_CHARACTERS, quoteInput } from '../quote-input.ts';

const isTimestamp = z.iso.datetime({ offset: true });

/**
 * Checks an event's properties against its definition. Returns the normalized properties
 * (nulls dropped, timestamps in UTC) or the first problem. Size and storable characters
 * were checked with the envelope. Undeclared properties are refused:
 * a property the catalog does not describe cannot be governed.
 */
export function validateProperties(definition: EventDefinition, properties: Readonly<Record<string, unknown>>): Checked<Record<string, unknown>> {
  const declared = propertiesByName(definition);
  const normalized: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(properties)) {
    const property = declared.get(name);
    if (!property) {
      const known = definition.properties.map((p) => p.name).join(', ') || 'none';
      return refuse('INVALID_PROPERTY', `undeclared property ${quoteInput(name)} for ${definition.name} (declared: ${known})`);
    }
    if (value === null || value === undefined) continue;
    const checked = checkValue(property, value);
    if (typeof checked === 'string') return refuse('INVALID_PROPERTY', `property ${quoteInput(name)} ${checked}`);
    normalized[name] = checked.value;
  }
  for (const property of definition.properties) {
    if (property.required && normalized[property.name] === undefined) {
      return refuse('MISSING_FIELD', `property '${property.name}' is required for ${definition.name}`);
    }
  }
  return { ok: true, value: normalized };
}

const byDefinition = new WeakMap<EventDefinition, ReadonlyMap<string, EventProperty>>();

function propertiesByName(definition: EventDefinition): ReadonlyMap<string, EventProperty> {
  let map = byDefinition.get(definition);
  if (!map) {
    map = new Map(definition.properties.map((p) => [p.name, p]));
    byDefinition.set(definition, map);
  }
  return map;
}

/** The normalized value, or what is wrong with it (never echoing a personal value). */
function checkValue(property: EventProperty, value: unknown): { value: unknown } | string {
  const normalized = normalize(property, value);
  const got = property.pii ? `got a ${Array.isArray(value) ? 'list' : typeof value} (personal value not shown)` : `got ${shown(value)}`;
  if (normalized === undefined) return `must be ${article(property.type)}, ${got}`;
  const allowed = property.allowedValues;
  if (allowed && !allowed.includes(normalized as string | number | boolean)) {
    return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, ${got}`;
  }
  return { value: normalized };
}

function normalize(property: EventProperty, value: unknown): unknown {
  switch (property.type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'integer':
      return Number.isSafeInteger(value) ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'timestamp':
      return typeof value === 'string' && isTimestamp.safeParse(value).success ? new Date(value).toISOString() : undefined;
  }
}

/** A sent value as a message may repeat it: JSON, truncated like any echoed input. */
function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length <= MAX_ECHOED_CHARACTERS ? json : quoteInput(json);
}

function article(type: EventProperty['type']): string {
  return type === 'integer' ? 'an integer' : type === 'timestamp' ? 'an ISO-8601 timestamp with offset' : `a ${type}`;
}
