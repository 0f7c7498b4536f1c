import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTagDefinitionsFile } from './tag-definitions-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-tags-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};

describe('loadTagDefinitionsFile', () => {
  it('reads exported steward tags as code-defined tags', () => {
    const tags = loadTagDefinitionsFile(
      file('ok.json', [
        {
          key: 'young_fund_buyer',
          kind: 'BOOLEAN',
          description: 'Young and buying funds',
          category: 'behaviour',
          owner: 'steward-sam',
          status: 'PUBLISHED',
          rule: {
            and: [
              { dimension: 'customer.age_band', op: 'IN', values: ['18-24', '25-34'] },
              { tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] },
            ],
          },
        },
        {
          key: 'old_tier',
          kind: 'ENUM',
          description: 'Retired',
          status: 'DEPRECATED',
          cases: [{ value: 'x', rule: { tag: 'aum_tier', op: 'EQ', values: ['mass'] } }],
          else: null,
        },
      ]),
    );
    expect(tags.map((t) => [t.key, t.origin, t.status, t.source.kind])).toEqual([
      ['young_fund_buyer', 'code', 'PUBLISHED', 'rule'],
      ['old_tier', 'code', 'DEPRECATED', 'cases'],
    ]);
  });

  it('treats a missing file as no tags and names the bad entry of a broken one', () => {
    expect(loadTagDefinitionsFile(join(dir, 'absent.json'))).toEqual([]);
    expect(() =>
      loadTagDefinitionsFile(
        file('bad.json', [
          { key: 'fine_one', kind: 'BOOLEAN', description: 'd', rule: { tag: 'x', op: 'EQ', values: ['true'] } },
          { key: 'Bad Key', kind: 'BOOLEAN' },
        ]),
      ),
    ).toThrow(/entry 1: key: 'Bad Key'/);
    expect(() => loadTagDefinitionsFile(file('object.json', { key: 'x' }))).toThrow(/JSON array/);
  });
});
