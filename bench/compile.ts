/**
 * Plan compile benchmark (no database):
 * - uncached compile of each of the 12 core metrics by month and customer.risk_level (every
 *   call a new query, so the plan cache never answers), timed per call after a warm-up;
 *   once with garbage collection forced between batches (outside the timed calls) and once
 *   left to V8, both reported as p50 / p99 / max, with the number of calls over 5 ms;
 * - cached compile of the same queries (the plan cache answers);
 * - MetricFlow's test manifest (102 metrics) imported, validated and every metric planned
 *   by metric_time, cold in a fresh process (module loading reported apart).
 *
 *   npx tsx bench/compile.ts [--rounds 200] [--warmup 100]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { median, quantile, formatTable } from './support/stats.ts';

const MANIFEST = resolve(import.meta.dirname, '../../shared/conformance/metricflow/manifest');

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '200' }, warmup: { type: 'string', default: '100' }, 'cold-manifest': { type: 'boolean', default: false } },
});

if (values['cold-manifest']) {
  // The child: everything from here is cold (modules, catalog, plans); the parent prints it.
  const started = performance.now();
  const [{ importDbtProject }, { createSemanticLayer }] = await Promise.all([
    import('../modeling/dbt/import-dbt-project.ts'),
    import('../modeling/semantic-layer.ts'),
  ]);
  const loaded = performance.now();
  const { catalog } = importDbtProject(MANIFEST, { schema: 'mf' });
  const validated = performance.now();
  const layer = createSemanticLayer(catalog, { maxRows: 100_000 });
  let refused = 0;
  for (const metric of catalog.metrics) {
    try {
      layer.plan({ metrics: [metric.name], groupBy: [{ dimension: 'metric_time' }] });
    } catch {
      refused += 1;
    }
  }
  const planned = performance.now();
  console.log(
    JSON.stringify({
      modulesMs: loaded - started,
      importValidateMs: validated - loaded,
      planMs: planned - validated,
      metrics: catalog.metrics.length,
      refused,
      peakRssMb: peakRssMb(),
    }),
  );
  process.exit(0);
}

const { wealthCatalog } = await import('../domains/wealth/catalog.ts');
const { createSemanticLayer } = await import('../modeling/semantic-layer.ts');
const { CORE_METRICS } = await import('./support/direct-metric-sql.ts');
type Query = Parameters<ReturnType<typeof createSemanticLayer>['plan']>[0];

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

console.log(`machine: ${describeMachine()}; load average ${loadAverage().join(' ')} (2 cores: figures above ~1.5 are contended)`);
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const queries: Query[] = CORE_METRICS.map((metric) => ({
  metrics: [metric],
  groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }],
  timeRange: { from: '2025-01-01', to: '2026-01-01' },
}));

interface Figures {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly over5: number;
}

function figures(samples: readonly number[]): Figures {
  return { samples: samples.length, p50: median(samples), p99: quantile(samples, 0.99), max: Math.max(...samples), over5: samples.filter((s) => s > 5).length };
}

/** Times `work` once per query per round, after `warmup` untimed rounds; `collect` forces a GC between rounds. */
function timeCalls(work: (query: Query, i: number) => void, collect: boolean): Figures {
  for (let i = 0; i < warmup; i++) for (const query of queries) work(query, -1 - i);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (collect) gc();
    for (const query of queries) {
      const started = performance.now();
      work(query, i);
      samples.push(performance.now() - started);
    }
  }
  return figures(samples);
}

const layer = createSemanticLayer(wealthCatalog(), { maxRows: 100_000 });
let serial = 0;
const uncached = (query: Query) => layer.plan({ ...query, limit: 1_000_000 + serial++ });
const rows: [string, Figures, string][] = [
  ['uncached, GC between rounds', timeCalls(uncached, true), '< 5 ms'],
  ['uncached, GC left to V8', timeCalls(uncached, false), '< 5 ms'],
  ['cached (plan cache answers)', timeCalls((query) => layer.plan(query), false), '< 0.2 ms'],
];
console.log(`\nplan compile of ${queries.length} core metrics by month and risk level, ${rounds} rounds after ${warmup} warm-up rounds (ms per call)`);
console.log(
  formatTable(
    ['compile', 'calls', 'p50', 'p99', 'max', 'calls > 5 ms', 'target p99'],
    rows.map(([name, f, target]) => [name, String(f.samples), f.p50.toFixed(3), f.p99.toFixed(3), f.max.toFixed(2), String(f.over5), target]),
  ),
);

if (!existsSync(MANIFEST)) {
  console.log(`\n${MANIFEST} is absent: cold manifest not measured`);
} else {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/compile.ts', '--cold-manifest'], {
    cwd: resolve(import.meta.dirname, '..'),
    encoding: 'utf8',
  });
  const wall = performance.now() - started;
  if (child.status !== 0) throw new Error(`cold manifest run failed: ${child.stderr}`);
  const cold = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as {
    modulesMs: number;
    importValidateMs: number;
    planMs: number;
    metrics: number;
    refused: number;
    peakRssMb: number;
  };
  const total = cold.importValidateMs + cold.planMs;
  console.log(`\nMetricFlow test manifest, cold in a fresh process (target < 1000 ms for import + validate + plan)`);
  console.log(
    formatTable(
      ['step', 'ms'],
      [
        ['load the modules (tsx transpiles on first run)', cold.modulesMs.toFixed(0)],
        ['import and validate the manifest', cold.importValidateMs.toFixed(0)],
        [`plan ${cold.metrics} metrics by metric_time (${cold.refused} refused)`, cold.planMs.toFixed(0)],
        ['import + validate + plan', total.toFixed(0)],
        ['whole child process, wall clock', wall.toFixed(0)],
      ],
    ),
  );
  console.log(`peak RSS: child ${cold.peakRssMb} MB`);
}
console.log(`peak RSS: ${peakRssMb()} MB`);
