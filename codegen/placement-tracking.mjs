// A graphql-codegen plugin: a typed tracking function per placement (锚定埋点), so app teams
// never hand-write placement events. It reads codegen/placements.json, which
// `npm run codegen` writes from the bundled domain's placements (`strata print-placements`),
// and builds on the `TrackEventInput` type the typescript-operations plugin generates.
import { readFileSync } from 'node:fs';

const pascal = (key) => key.replace(/(^|_)([a-z0-9])/g, (_m, _s, c) => c.toUpperCase());

/** @type {import('@graphql-codegen/plugin-helpers').PluginFunction<{ placementsFile: string }>} */
export const plugin = (_schema, _documents, config) => {
  /** @type {{ key: string, channel: string, page: string, description: string, clickEvent: string }[]} */
  const placements = JSON.parse(readFileSync(config.placementsFile, 'utf8'));
  const keys = placements.map((p) => `'${p.key}'`).join(' | ') || 'never';
  const lines = [
    `/** The placements this client was generated for. */`,
    `export type PlacementKey = ${keys};`,
    '',
    `/** What a tracking function needs from a \`decide\` answer: send the decision back with the click. */`,
    `export interface PlacementDecisionRef {`,
    `  readonly placement: string;`,
    `  readonly decisionId: string;`,
    `  readonly content: { readonly key: string };`,
    `  readonly strategy?: string | null;`,
    `  readonly experiment?: string | null;`,
    `  readonly variant?: string | null;`,
    `  readonly fallback: boolean;`,
    `}`,
    '',
    `/** The click of one decision: a unique event id, the customer, and when (default now). */`,
    `export interface PlacementClick {`,
    `  readonly decision: PlacementDecisionRef;`,
    `  readonly customerId: string;`,
    `  readonly eventId: string;`,
    `  readonly occurredAt?: string;`,
    `}`,
    '',
    `function placementClickEvent(placement: PlacementKey, name: string, page: string, channel: string, click: PlacementClick): TrackEventInput {`,
    `  const d = click.decision;`,
    `  if (d.placement !== placement) throw new Error(\`a decision of placement '\${d.placement}' tracked as a click of '\${placement}'\`);`,
    `  return {`,
    `    eventId: click.eventId,`,
    `    name,`,
    `    customerId: click.customerId,`,
    `    occurredAt: click.occurredAt ?? new Date().toISOString(),`,
    `    channel,`,
    `    page,`,
    `    placementId: placement,`,
    `    properties: {`,
    `      decision_id: d.decisionId,`,
    `      content_id: d.content.key,`,
    `      fallback: d.fallback,`,
    `      ...(d.strategy ? { strategy_id: d.strategy } : {}),`,
    `      ...(d.experiment ? { experiment: d.experiment } : {}),`,
    `      ...(d.variant ? { variant: d.variant } : {}),`,
    `    },`,
    `  };`,
    `}`,
  ];
  for (const p of placements) {
    lines.push(
      '',
      `/** ${p.description.replaceAll('*/', '* /')} Builds its \`${p.clickEvent}\` event for \`trackEvents\` (impressions are logged by \`decide\`). */`,
      `export function track${pascal(p.key)}Click(click: PlacementClick): TrackEventInput {`,
      `  return placementClickEvent('${p.key}', ${JSON.stringify(p.clickEvent)}, ${JSON.stringify(p.page)}, ${JSON.stringify(p.channel)}, click);`,
      `}`,
    );
  }
  return { content: lines.join('\n') };
};
