import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importDbtProject } from './import-dbt-project.ts';
import { CatalogValidationError } from '../catalog/validation-error.ts';

/**
 * Whatever shape a definition has, importing it either succeeds or reports problems
 * (`CatalogValidationError`): every value of the bakery's compiled manifest is replaced, in
 * turn, by values of the wrong type, and the import must never throw anything else.
 */
const MANIFEST = resolve(import.meta.dirname, '../../test/fixtures/bakery/target/semantic_manifest.json');
const JUNK: readonly unknown[] = [null, 7, 'x', {}, [{}]];

function paths(value: unknown, at: readonly (string | number)[] = []): (readonly (string | number)[])[] {
  if (Array.isArray(value)) return [at, ...value.flatMap((v, i) => paths(v, [...at, i]))];
  if (value && typeof value === 'object') return [at, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]))];
  return [at];
}

function replaced(value: unknown, at: readonly (string | number)[], junk: unknown): unknown {
  if (at.length === 0) return junk;
  const [head, ...rest] = at;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head as string] = replaced(copy[head as string], rest, junk);
  return copy;
}

const dir = mkdtempSync(join(tmpdir(), 'strata-dbt-robust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('importing definitions of any shape', () => {
  it('reports problems or succeeds, and never throws anything else', () => {
    const manifest: unknown = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    const file = join(dir, 'semantic_manifest.json');
    let rejected = 0;
    let imported = 0;
    for (const at of paths(manifest).filter((p) => p.length > 0)) {
      for (const junk of JUNK) {
        writeFileSync(file, JSON.stringify(replaced(manifest, at, junk)));
        try {
          importDbtProject(file, { schema: 'bakery' });
          imported += 1;
        } catch (error) {
          if (!(error instanceof CatalogValidationError)) throw new Error(`${at.join('.')} = ${JSON.stringify(junk)}: ${(error as Error).stack}`);
          rejected += 1;
        }
      }
    }
    // Both outcomes occur: the mutations are not all harmless, nor all fatal.
    expect(rejected).toBeGreaterThan(100);
    expect(imported).toBeGreaterThan(100);
  });
});
