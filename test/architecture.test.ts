import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const LAYERS = ['api', 'resolvers', 'services', 'modeling', 'decisioning', 'store', 'migrations', 'domains'] as const;

/** What each layer may import: dependencies point one way, api -> resolvers -> services -> core. */
const ALLOWED: Record<string, readonly string[]> = {
  api: ['api', 'resolvers', 'services', 'modeling', 'decisioning', 'store', 'migrations', 'domains'],
  resolvers: ['resolvers', 'services', 'modeling', 'decisioning', 'store', 'domains'],
  services: ['services', 'modeling', 'decisioning', 'store'],
  domains: ['domains', 'modeling', 'store'],
  decisioning: ['decisioning', 'modeling'],
  store: ['store', 'migrations', 'modeling'],
  migrations: ['migrations'],
  modeling: ['modeling'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] as string);
}

const files = LAYERS.flatMap((layer) => {
  try {
    return sourceFiles(layer);
  } catch {
    return [];
  }
});

describe('architecture', () => {
  it('keeps dependencies pointing one way between layers', () => {
    const violations: string[] = [];
    for (const file of files) {
      const layer = file.split('/')[0] as string;
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = normalize(join(dirname(file), spec)).split('/')[0] as string;
        if (!ALLOWED[layer]?.includes(target)) violations.push(`${file} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('lets only the composition root import a domain: the platform gets the Domain passed in', () => {
    const compositionRoot = 'api/bundled-domain.ts';
    expect(files, `the composition root ${compositionRoot} is missing`).toContain(compositionRoot);
    const offending = files
      .filter((f) => !f.startsWith('domains/') && f !== compositionRoot)
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => s.startsWith('.') && normalize(join(dirname(f), s)).startsWith('domains/'))
          .map((s) => `${f} imports ${s}`),
      );
    expect(offending).toEqual([]);
  });

  it('keeps modeling free of GraphQL and the server', () => {
    const offending = files
      .filter((f) => f.startsWith('modeling/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => /^(graphql|@apollo|@pothos)/.test(s))
          .map((s) => `${f} imports ${s}`),
      );
    expect(offending).toEqual([]);
  });

  it('has no import cycles', () => {
    const graph = new Map<string, string[]>();
    for (const file of files) {
      graph.set(
        file,
        importsOf(file)
          .filter((s) => s.startsWith('.'))
          .map((s) => relative('.', normalize(join(dirname(file), s)))),
      );
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
