import { DEFAULT_SENSITIVITY, isPersonal, SENSITIVITIES as SENSITIVITY_CLASSES, type Sensitivity } from '../catalog/sensitivity.ts';

export type { Sensitivity } from '../catalog/sensitivity.ts';

/** The value types an event property may declare. */
export const EVENT_PROPERTY_TYPES = ['string', 'number', 'integer', 'boolean', 'timestamp'] as const;
export type EventPropertyType = (typeof EVENT_PROPERTY_TYPES)[number];

/** Envelope fields (beside the always-required ones) that an event may declare required. */
export const OPTIONAL_ENVELOPE_FIELDS = ['customerId', 'page', 'placementId', 'productId'] as const;
export type OptionalEnvelopeField = (typeof OPTIONAL_ENVELOPE_FIELDS)[number];

export type AllowedValue = string | number | boolean;

export interface EventPropertySpec {
  readonly type: EventPropertyType;
  readonly required?: boolean;
  readonly allowedValues?: readonly AllowedValue[];
  /**
   * How sensitive the values are (default `internal`). `personal` and `restricted` values
   * are stored only as a keyed pseudonym, with an encrypted copy when a key is configured.
   */
  readonly sensitivity?: Sensitivity;
  /** Shorthand: `pii: true` is `sensitivity: 'personal'` (kept for existing definitions). */
  readonly pii?: boolean;
  readonly description?: string;
}

export interface EventSpec {
  /** API name, `snake_case`: the value of `wealth.app_events.event_name`. */
  readonly name: string;
  readonly description: string;
  /** The team answerable for the event's meaning. */
  readonly owner: string;
  readonly properties?: Readonly<Record<string, EventPropertySpec>>;
  /** Envelope fields this event cannot do without, e.g. `placementId` for placement events. */
  readonly requires?: readonly OptionalEnvelopeField[];
  /** The event as a whole identifies a person beyond its customer id (e.g. a sign-up form). */
  readonly pii?: boolean;
}

export interface EventProperty {
  readonly name: string;
  readonly type: EventPropertyType;
  readonly required: boolean;
  readonly allowedValues: readonly AllowedValue[] | null;
  readonly sensitivity: Sensitivity;
  /** Derived: true for `personal` and `restricted` properties. */
  readonly pii: boolean;
  readonly description: string | null;
}

/** A validated event definition: frozen, serializable plain data. */
export interface EventDefinition {
  readonly kind: 'event';
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  /** In declaration order, the shape `catalog.events.properties` serves. */
  readonly properties: readonly EventProperty[];
  readonly requires: readonly OptionalEnvelopeField[];
  /** True when the event or any of its properties is flagged as personal data. */
  readonly pii: boolean;
}

/** A definition written in code that breaks the rules: a bug to fix before the server starts. */
export class EventDefinitionError extends Error {
  override readonly name = 'EventDefinitionError';
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Declares one behaviour event: its name, meaning, owner and the schema of its properties.
 * Throws `EventDefinitionError` listing every problem when the definition is inconsistent.
 *
 * ```ts
 * const purchaseSubmit = defineEvent({
 *   name: 'purchase_submit',
 *   description: 'The customer submitted a purchase order.',
 *   owner: 'wealth-app',
 *   requires: ['customerId', 'productId'],
 *   properties: { amount: { type: 'number', required: true } },
 * });
 * ```
 */
export function defineEvent(spec: EventSpec): EventDefinition {
  const problems: string[] = [];
  if (!NAME.test(spec.name)) problems.push(`name '${spec.name}' must be snake_case, at most 64 characters`);
  if (!spec.description?.trim()) problems.push('description is required');
  if (!spec.owner?.trim()) problems.push('owner is required');
  for (const field of spec.requires ?? []) {
    if (!OPTIONAL_ENVELOPE_FIELDS.includes(field)) problems.push(`requires: unknown envelope field '${field}'`);
  }
  const properties = Object.entries(spec.properties ?? {}).map(([name, property]) => {
    problems.push(...checkProperty(name, property));
    const sensitivity = sensitivityOf(property);
    return Object.freeze<EventProperty>({
      name,
      type: property.type,
      required: property.required ?? false,
      allowedValues: property.allowedValues ? Object.freeze([...property.allowedValues]) : null,
      sensitivity,
      pii: isPersonal(sensitivity),
      description: property.description ?? null,
    });
  });
  if (problems.length > 0) throw new EventDefinitionError(`event '${spec.name}': ${problems.join('; ')}`);
  return Object.freeze<EventDefinition>({
    kind: 'event',
    name: spec.name,
    description: spec.description,
    owner: spec.owner,
    properties: Object.freeze(properties),
    requires: Object.freeze([...new Set(spec.requires ?? [])]),
    pii: (spec.pii ?? false) || properties.some((p) => p.pii),
  });
}

/** The declared class; `pii: true` alone means `personal`. */
function sensitivityOf(property: EventPropertySpec): Sensitivity {
  return property.sensitivity ?? (property.pii ? 'personal' : DEFAULT_SENSITIVITY);
}

function checkProperty(name: string, property: EventPropertySpec): string[] {
  const problems: string[] = [];
  if (!NAME.test(name)) problems.push(`property '${name}' must be snake_case`);
  const declared = property.sensitivity;
  if (declared !== undefined && !SENSITIVITY_CLASSES.includes(declared)) {
    problems.push(`property '${name}': unknown sensitivity '${String(declared)}' (one of ${SENSITIVITY_CLASSES.join(', ')})`);
  } else if (declared !== undefined && property.pii !== undefined && property.pii !== isPersonal(declared)) {
    problems.push(`property '${name}': pii: ${String(property.pii)} contradicts sensitivity '${declared}'`);
  }
  if (!EVENT_PROPERTY_TYPES.includes(property.type)) problems.push(`property '${name}': unknown type '${String(property.type)}'`);
  const allowed = property.allowedValues;
  if (allowed !== undefined) {
    if (allowed.length === 0) problems.push(`property '${name}': allowedValues is empty`);
    const misfit = allowed.filter((value) => !fitsType(value, property.type));
    if (property.type === 'timestamp') problems.push(`property '${name}': a timestamp cannot list allowedValues`);
    else if (misfit.length > 0) problems.push(`property '${name}': allowedValues ${JSON.stringify(misfit)} are not of type ${property.type}`);
  }
  return problems;
}

function fitsType(value: AllowedValue, type: EventPropertyType): boolean {
  if (type === 'integer') return Number.isSafeInteger(value);
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeof value === type;
}

/** Indexes definitions by name; two definitions of one name are a bug. */
export function indexEventDefinitions(definitions: readonly EventDefinition[]): ReadonlyMap<string, EventDefinition> {
  const byName = new Map<string, EventDefinition>();
  for (const definition of definitions) {
    if (byName.has(definition.name)) throw new EventDefinitionError(`event '${definition.name}' is defined twice`);
    byName.set(definition.name, definition);
  }
  return byName;
}
