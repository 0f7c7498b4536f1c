import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const LAYERS = ['api', 'resolvers', 'services', 'decisioning', 'modeling', 'store', 'migrations', 'domains'] as const;

/** What each layer may import: dependencies point one way, api -> resolvers -> services -> core. */
const ALLOWED: Record<string, readonly string[]> = {
  api: ['api', 'resolvers', 'services', 'decisioning', 'modeling', 'store', 'migrations', 'domains'],
  resolvers: ['resolvers', 'services', 'decisioning', 'modeling', 'store', 'domains'],
  services: ['services', 'decisioning', 'modeling', 'store'],
  /** Pure decision logic over plain definitions and the condition language: no database, no server. */
  decisioning: ['decisioning', 'modeling'],
  domains: ['domains', 'decisioning', 'modeling', 'store'],
  store: ['store', 'migrations', 'modeling'],
  migrations: ['migrations'],
  modeling: ['modeling'],
};

/** Packages decisioning may import: plain computation, no I/O. */
const PURE_PACKAGES: readonly string[] = ['jstat', 'ajv'];

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

/** Every layer must exist: a renamed or missing folder fails here instead of passing with no files. */
const files = LAYERS.flatMap((layer) => sourceFiles(layer));

/** The folder of a modeling file (`modeling/plan/x.ts` -> `modeling/plan`); files directly in `modeling/` are their own unit. */
function modelingFolder(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : file;
}

/** Cycles of a directed graph, each as `a -> b -> a`. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, trail: string[]) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting') {
      cycles.push([...trail.slice(trail.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'visiting');
    for (const next of graph.get(node) ?? []) visit(next, [...trail, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  return cycles;
}

describe('architecture', () => {
  it('finds every layer folder', () => {
    for (const layer of LAYERS)
      expect(
        files.some((f) => f.startsWith(`${layer}/`)),
        `layer folder '${layer}' has no source files`,
      ).toBe(true);
  });

  it('has no import cycles between folders of modeling (plan -> sql, never back)', () => {
    const graph = new Map<string, Set<string>>();
    for (const file of files.filter((f) => f.startsWith('modeling/'))) {
      const from = modelingFolder(file);
      const edges = graph.get(from) ?? new Set<string>();
      graph.set(from, edges);
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = relative('.', normalize(join(dirname(file), spec)));
        if (!target.startsWith('modeling/')) continue;
        const to = modelingFolder(target);
        if (to !== from) edges.add(to);
      }
    }
    expect(cyclesOf(new Map([...graph].map(([k, v]) => [k, [...v]])))).toEqual([]);
  });

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

  it('keeps decisioning pure: no database, server or Node-specific imports', () => {
    const offending = files
      .filter((f) => f.startsWith('decisioning/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => !s.startsWith('.') && !PURE_PACKAGES.includes(s))
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
    expect(cyclesOf(graph)).toEqual([]);
  });
});
