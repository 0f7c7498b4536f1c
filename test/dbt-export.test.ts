import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exportDbtProject } from '../modeling/dbt/export-dbt-project.ts';
import { importDbtProject } from '../modeling/dbt/import-dbt-project.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { runDbtExport } from '../api/cli-dbt-export.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { WEALTH_CORE_METRICS } from '../domains/wealth/metrics.ts';

/**
 * The round trip: `strata dbt export` writes the wealth domain as a dbt project in the
 * authoring form; imported back, every core metric of DOMAIN.md (and every other exported
 * metric) gives the same rows as the native definitions, on the seeded demo warehouse.
 */

const dir = mkdtempSync(join(tmpdir(), 'strata-dbt-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('strata dbt export', () => {
  it('writes the project, says what MetricFlow cannot express, in its output and in comments', async () => {
    const lines: string[] = [];
    await runDbtExport({ out: dir }, (l) => lines.push(l));
    const output = lines.join('\n');
    expect(output).toMatch(/^wrote 11 files to .*: 6 semantic models, 17 metrics, 0 saved queries/);
    expect(output).toContain('reporting time zone: customer, product, transaction, holding, app_event, risk_assessment cut time grains in Asia/Shanghai');
    expect(output).toContain('customer tags (aum_tier');
    expect(output).toContain('first_purchase_success_rate: conversion settings MetricFlow lacks (base_events, same_time_counts)');
    const models = readFileSync(join(dir, 'models/semantic_models.yml'), 'utf8');
    expect(models).toContain("model: ref('transactions')");
    expect(models).toMatch(/^# What MetricFlow cannot express as Strata serves it/);
    expect(models).toContain('# Time grains are cut in Asia/Shanghai');
    expect(readFileSync(join(dir, 'models/metrics.yml'), 'utf8')).toContain("# Strata counts each customer's first-ever base event");
    expect(readFileSync(join(dir, 'dbt_project.yml'), 'utf8')).toContain('name: strata_wealth');
    expect(readFileSync(join(dir, 'models/staging/transactions.sql'), 'utf8')).toBe("select * from {{ source('wealth', 'transactions') }}\n");
  });

  it('imports back with nothing refused, every core metric present, and owners kept through groups', () => {
    const { catalog, refused } = importDbtProject(dir, { schema: 'wealth' });
    expect(refused).toEqual([]);
    const native = bundledDomain().catalog;
    expect(catalog.metrics.map((m) => m.name).sort()).toEqual(native.metrics.map((m) => m.name).sort());
    for (const m of native.metrics) expect(catalog.metrics.find((x) => x.name === m.name)?.owner).toBe(m.owner);
    expect(WEALTH_CORE_METRICS.every((name) => catalog.metrics.some((m) => m.name === name))).toBe(true);
  });

  it('gives a dbt project back as it was: the bakery (ref(), a time_spine: model with a custom granularity, groups, a saved query) exported and imported again', () => {
    const bakery = importDbtProject(join(import.meta.dirname, 'fixtures/bakery'), { schema: 'bakery' }).catalog;
    const { files, notes } = exportDbtProject({ projectName: 'bakery', catalog: bakery });
    const again = mkdtempSync(join(tmpdir(), 'strata-dbt-bakery-'));
    try {
      for (const [path, text] of files) {
        mkdirSync(dirname(join(again, path)), { recursive: true });
        writeFileSync(join(again, path), text);
      }
      expect(notes).toEqual([]);
      expect(files.get('models/staging/_staging.yml')).toContain('standard_granularity_column: date_day');
      const back = importDbtProject(again, { schema: 'bakery' });
      expect(back.catalog.models).toEqual(bakery.models);
      expect(back.catalog.metrics).toEqual(bakery.metrics);
      expect(back.catalog.timeSpines).toEqual(bakery.timeSpines);
      expect(back.catalog.savedQueries).toEqual(bakery.savedQueries);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('exports in well under a second', () => {
    const start = performance.now();
    exportDbtProject({ projectName: 'strata_wealth', catalog: bundledDomain().catalog });
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

/** Rows in a stable order, so that the two answers compare as sets. */
const sorted = (rows: readonly Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();

await describeEachEngine('the exported wealth project gives the native rows on %s', (engine) => {
  let database: TestDatabase;
  const native = createSemanticLayer(bundledDomain().catalog, { maxRows: 100_000 });
  let exported: ReturnType<typeof createSemanticLayer>;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 300, seed: 7 });
    const project = mkdtempSync(join(tmpdir(), 'strata-dbt-roundtrip-'));
    try {
      const { files } = exportDbtProject({ projectName: 'strata_wealth', catalog: bundledDomain().catalog });
      for (const [path, text] of files) {
        mkdirSync(dirname(join(project, path)), { recursive: true });
        writeFileSync(join(project, path), text);
      }
      exported = createSemanticLayer(importDbtProject(project, { schema: 'wealth' }).catalog, { maxRows: 100_000 });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 300_000);

  afterAll(async () => {
    await database?.dispose();
  });

  const metrics = bundledDomain().catalog.metrics.map((m) => m.name);
  const queries: readonly (readonly [string, (metric: string) => readonly [MetricQuery, MetricQuery]])[] = [
    [
      'by month',
      (m) => [
        { metrics: [m], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }] },
        { metrics: [m], groupBy: [{ dimension: 'metric_time__month' }] },
      ],
    ],
    [
      'by Shanghai day within a range',
      (m) => [
        { metrics: [m], groupBy: [{ dimension: 'metric_time', grain: 'DAY' }], timeRange: { from: '2026-03-01', to: '2026-04-15' } },
        { metrics: [m], groupBy: [{ dimension: 'metric_time__day' }], timeRange: { from: '2026-03-01', to: '2026-04-15' } },
      ],
    ],
    [
      "by the customer's channel",
      (m) => [
        { metrics: [m], groupBy: [{ dimension: 'customer.channel' }] },
        { metrics: [m], groupBy: [{ dimension: 'customer__channel' }] },
      ],
    ],
  ];

  it.each(metrics.flatMap((m) => queries.map(([title, build]) => [`${m} ${title}`, m, build] as const)))('%s', async (_title, metric, build) => {
    const [nativeQuery, dbtQuery] = build(metric);
    const expected = await native.query(database.db, nativeQuery);
    const actual = await exported.query(database.db, dbtQuery);
    expect(expected.rows.length).toBeGreaterThan(0);
    expect(sorted(actual.rows)).toEqual(sorted(expected.rows));
  });
});
