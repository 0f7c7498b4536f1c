import type { EventDefinition } from '../../modeling/events/define-event.ts';
import { tagSensitivity } from '../../modeling/tags/rule-members.ts';
import { tagValues, tagValueType, type TagDefinition } from '../../modeling/tags/tag-definition.ts';
import type { TagSubject } from '../../modeling/tags/tag-subject.ts';
import { cell, codes, page, table } from './markdown.ts';
import { tagSourceText } from './rule-text.ts';

/** `docs/reference/tags.md`: every tag of the domain, what it means and how it is computed; `source` names where they are defined. */
export function tagsReference(tags: readonly TagDefinition[], subject: TagSubject, source: string): string {
  const byKey = new Map(tags.map((t) => [t.key, t]));
  const sorted = [...tags].sort((a, b) => a.key.localeCompare(b.key));
  return page('Customer tags', source, [
    'Per-customer labels, materialized as of a date and read by `customer(id) { tags }`, by rules (`{ tag: ... }`) and as ' +
      "the dimensions `customer.tag.<key>`. The sensitivity is the tag's own class, raised to the strictest member its " +
      "rule reads; profiles mask a tag above the caller's clearance.",
    table(
      ['tag', 'kind', 'values', 'category', 'owner', 'status', 'sensitivity', 'description'],
      sorted.map((t) => [
        `\`${t.key}\``,
        t.kind,
        valuesOf(t),
        cell(t.category),
        cell(t.owner),
        t.status,
        tagSensitivity(t, subject, byKey),
        cell(t.description),
      ]),
    ),
    ...sorted.map(
      (t) =>
        `## ${t.key}\n\n${t.description}\n\n- Computed as: ${tagSourceText(t.source)}.\n- Version ${t.version}, defined ${t.origin === 'code' ? 'with the domain' : 'by stewards'}.`,
    ),
  ]);
}

function valuesOf(tag: TagDefinition): string {
  const values = tagValues(tag);
  return values.length > 0 ? codes(values) : `any ${tagValueType(tag)}`;
}

/** `docs/reference/events.md`: every declared behaviour event with its properties and their sensitivity. */
export function eventsReference(events: readonly EventDefinition[], source: string): string {
  const sorted = [...events].sort((a, b) => a.name.localeCompare(b.name));
  return page('Behaviour events', source, [
    'Sent with `trackEvents` or `POST /v1/events` (docs/api.md). Every event carries the envelope (`eventId`, `name`, ' +
      '`customerId` and/or `anonymousId`, `occurredAt`, `channel`, optional `page`, `placementId`, `productId`); "requires" ' +
      'lists the optional envelope fields an event cannot do without. Properties of class `personal` or `restricted` are ' +
      'stored only as a keyed pseudonym (`hmac:v1:...`), with an encrypted copy when a key is configured.',
    table(
      ['event', 'requires', 'description'],
      sorted.map((e) => [`[\`${e.name}\`](#${e.name})`, codes(e.requires), cell(e.description)]),
    ),
    ...sorted.map(eventSection),
  ]);
}

function eventSection(event: EventDefinition): string {
  const parts = [`## ${event.name}`, event.description, `- Owner \`${event.owner}\`.`];
  if (event.properties.length === 0) return [...parts, 'No properties.'].join('\n\n');
  const properties = table(
    ['property', 'type', 'required', 'allowed values', 'sensitivity', 'description'],
    event.properties.map((p) => [
      `\`${p.name}\``,
      p.type,
      p.required ? 'yes' : 'no',
      p.allowedValues ? codes(p.allowedValues.map(String)) : '',
      p.sensitivity,
      cell(p.description),
    ]),
  );
  return [...parts, properties].join('\n\n');
}
