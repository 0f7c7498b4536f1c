import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFERENCE_DIR, referenceDocs } from '../api/reference/reference-docs.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const STALE = 'out of date: run `npm run docs` and commit the result';

describe('docs/reference', () => {
  const domain = bundledDomain();
  const docs = referenceDocs(domain);

  it('is what `npm run docs` generates from the definitions, page by page', () => {
    for (const doc of docs) {
      const checkedIn = (() => {
        try {
          return readFileSync(join(REFERENCE_DIR, doc.name), 'utf8');
        } catch {
          return '(missing)';
        }
      })();
      expect(checkedIn, `${REFERENCE_DIR}/${doc.name} is ${STALE}`).toBe(doc.content);
    }
    expect(readdirSync(REFERENCE_DIR).sort(), `${REFERENCE_DIR} holds pages nobody generates: ${STALE}`).toEqual(docs.map((d) => d.name).sort());
  });

  it('names every metric, model, tag and event of the domain, and every dimension with its sensitivity', () => {
    const page = (name: string) => docs.find((d) => d.name === name)?.content ?? '';
    for (const metric of domain.catalog.metrics) expect(page('metrics.md')).toContain(`## ${metric.name}\n`);
    for (const model of domain.catalog.models) {
      expect(page('models.md')).toContain(`## ${model.name}\n`);
      for (const dimension of model.dimensions)
        expect(page('models.md')).toMatch(
          new RegExp(`\\| \`${model.name}\\.${dimension.name}\` \\| ${dimension.type} \\| [A-Z]* \\| (public|internal|personal|restricted)`),
        );
    }
    for (const tag of domain.tags) expect(page('tags.md')).toContain(`## ${tag.key}\n`);
    for (const event of domain.events) {
      expect(page('events.md')).toContain(`## ${event.name}\n`);
      for (const property of event.properties) expect(page('events.md')).toContain(`| \`${property.name}\` | ${property.type} |`);
    }
    expect(page('models.md')).toContain('| `customer.customer_id` | string |  | personal |');
    expect(page('operations.md')).toContain('| `customer` | `id: String!` | `Customer` | `profiles.read` | `app`, `operator`, `admin` |');
  });
});
