/**
 * dbt project benchmark: loading and validating a generated project of 100 metrics in both
 * input forms (the authoring folder with dbt_project.yml and ref(), and the compiled
 * semantic_manifest.json), `strata dbt export` of the bundled domain (target: each under
 * 1 s); then importing and validating MetricFlow's test manifest, compiling a plan for each
 * of its metrics by metric_time (cold, no plan cache), and the median end-to-end GraphQL
 * latency of each conformance case on PostgreSQL.
 *
 *   npx tsx bench/dbt.ts        (the last parts need ../shared/conformance/metricflow and PostgreSQL)
 */
import { cpus, totalmem, platform, release, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importDbtProject } from '../modeling/dbt/import-dbt-project.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { createApp } from '../api/app.ts';
import { createTestDatabase, isPostgresReachable } from '../test/support/engines.ts';
import { loadSnapshots } from '../test/conformance/load-snapshots.ts';
import { metricflowEnvironment } from '../test/conformance/jinja-helpers.ts';
import { caseQuery, readCases } from '../test/conformance/metricflow-case.ts';
import { SKIPPED_CASES } from '../test/conformance/skipped-cases.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { createApiKey } from '../store/api-keys.ts';
import { logger } from '../store/logger.ts';
import { exportDbtProject } from '../modeling/dbt/export-dbt-project.ts';
import { writeBenchProject } from './support/dbt-project-generator.ts';

const ROOT = resolve(import.meta.dirname, '../../shared/conformance/metricflow');
const SCHEMA = 'mf_bench';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

console.log(`machine: ${cpus()[0]?.model} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, node ${process.version}`);

/** The first run (cold: modules and caches warming) and the median of the next `runs`. */
function timed(run: () => unknown, runs = 9): { cold: number; median: number } {
  let start = performance.now();
  run();
  const cold = performance.now() - start;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return { cold, median: median(samples) };
}

const scratch = mkdtempSync(resolve(tmpdir(), 'strata-bench-dbt-'));
let slow = false;
try {
  const { project, manifest } = writeBenchProject(scratch, { facts: 9, metrics: 100, schema: SCHEMA });
  for (const [form, path] of [
    ['authoring folder (dbt_project.yml, ref())', project],
    ['compiled semantic_manifest.json', manifest],
  ] as const) {
    let metrics = 0;
    const { cold, median: warm } = timed(() => {
      const { catalog } = importDbtProject(path, { schema: SCHEMA });
      metrics = catalog.metrics.length;
    });
    slow ||= cold >= 1000;
    console.log(`load + validate ${metrics} metrics, ${form}: ${cold.toFixed(0)} ms first, ${warm.toFixed(1)} ms median of 9 (target < 1000 ms)`);
  }
  const domain = bundledDomain();
  let files = 0;
  const exported = timed(() => {
    files = exportDbtProject({ projectName: 'strata_wealth', catalog: domain.catalog, tagKeys: domain.tags.map((t) => t.key) }).files.size;
  });
  slow ||= exported.cold >= 1000;
  console.log(
    `dbt export of the ${domain.name} domain (${files} files): ${exported.cold.toFixed(0)} ms first, ${exported.median.toFixed(1)} ms median of 9 (target < 1000 ms)`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (slow) process.exitCode = 1;

if (!existsSync(ROOT)) {
  console.log(`${ROOT} is absent: MetricFlow's manifest and cases not measured`);
  process.exit();
}

let t = performance.now();
const { catalog, refused } = importDbtProject(resolve(ROOT, 'manifest'), { schema: SCHEMA });
const importMs = performance.now() - t;
console.log(
  `import + validate manifest: ${importMs.toFixed(0)} ms (${catalog.models.length} models, ${catalog.metrics.length} metrics, ${refused.length} refused)`,
);

t = performance.now();
const layer = createSemanticLayer(catalog, { maxRows: 100_000 });
let failed = 0;
for (const metric of catalog.metrics) {
  try {
    layer.plan({ metrics: [metric.name], groupBy: [{ dimension: 'metric_time' }] });
  } catch {
    failed += 1;
  }
}
const planMs = performance.now() - t;
console.log(
  `compile ${catalog.metrics.length} metrics by metric_time, cold: ${planMs.toFixed(0)} ms total (${(planMs / catalog.metrics.length).toFixed(2)} ms each, ${failed} refused)`,
);

if (await isPostgresReachable()) {
  logger.level = 'warn'; // one line per request would drown the figures
  const database = await createTestDatabase('postgres');
  try {
    await loadSnapshots(database.db, resolve(ROOT, 'data'), SCHEMA);
    const app = await createApp(database, bundledDomain(), {
      dev: false,
      maxBodyBytes: 2_000_000,
      maxRows: 200_000,
      dbtProject: resolve(ROOT, 'manifest'),
      dbtSchema: SCHEMA,
    });
    const url = `http://127.0.0.1:${await app.listen(0)}/graphql`;
    // Anonymous callers are refused: the cases run as an analyst.
    const key = await createApiKey(database.db, 'bench-dbt', 'analyst');
    const jinja = metricflowEnvironment(SCHEMA);
    const query = 'query($q: MetricQueryInput!) { metrics(query: $q) { rows } }';
    const perCase: { name: string; ms: number }[] = [];
    for (const c of readCases(resolve(ROOT, 'cases'))) {
      if (SKIPPED_CASES[c.name] || c.min_max_only || c.apply_group_by === false) continue;
      const body = JSON.stringify({ query, variables: { q: caseQuery(c, jinja.render) } });
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
        const answer = (await response.json()) as { errors?: unknown[] };
        if (answer.errors) throw new Error(`${c.name}: ${JSON.stringify(answer.errors)}`);
        times.push(performance.now() - start);
      }
      perCase.push({ name: `${c.file} ${c.name}`, ms: median(times.slice(1)) });
    }
    await app.close();
    const all = perCase.map((p) => p.ms);
    console.log(
      `GraphQL end to end on PostgreSQL, ${perCase.length} cases (median of 4 after a warm-up each): median ${median(all).toFixed(1)} ms, p90 ${[...all].sort((a, b) => a - b)[Math.floor(all.length * 0.9)]?.toFixed(1)} ms, max ${Math.max(...all).toFixed(1)} ms`,
    );
    for (const p of [...perCase].sort((a, b) => b.ms - a.ms).slice(0, 5)) console.log(`  slowest: ${p.ms.toFixed(1)} ms ${p.name}`);
  } finally {
    await database.dispose();
  }
} else {
  console.log('PostgreSQL is not reachable: GraphQL latency not measured');
}
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
