import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { createApp, type App } from '../../api/app.ts';
import { createApiKey } from '../../store/api-keys.ts';
import { createTestDatabase, type TestDatabase } from '../support/engines.ts';
import { describeEachEngine } from '../support/describe-engines.ts';
import { loadSnapshots } from './load-snapshots.ts';
import { metricflowEnvironment } from './jinja-helpers.ts';
import { compareResults } from './compare-results.ts';
import { caseQuery, readCases, type MetricflowCase } from './metricflow-case.ts';
import { engineSkip, SKIPPED_CASES } from './skipped-cases.ts';
import { bundledDomain } from '../../api/bundled-domain.ts';

/**
 * MetricFlow's own integration cases for its test project (Apache-2.0, read where they lie in
 * the shared folder, never copied here): each query runs through POST /graphql against the
 * served dbt project, and its result must equal MetricFlow's hand-written reference SQL.
 */
const ROOT = resolve(import.meta.dirname, '../../../shared/conformance/metricflow');
const SCHEMA = 'mf_conformance';
const present = existsSync(resolve(ROOT, 'cases'));
if (!present) console.warn(`SKIPPING MetricFlow conformance: ${ROOT} is absent`);

const cases: MetricflowCase[] = present ? readCases(resolve(ROOT, 'cases')) : [];
const jinja = metricflowEnvironment(SCHEMA);
const skipReason = (c: MetricflowCase): string | undefined =>
  SKIPPED_CASES[c.name] ??
  engineSkip(c.required_features) ??
  (c.min_max_only ? 'min_max_only' : c.apply_group_by === false ? 'apply_group_by: false' : undefined);
const runnable = cases.filter((c) => skipReason(c) === undefined);
const skipped = cases.filter((c) => skipReason(c) !== undefined);
const QUERY = 'query($q: MetricQueryInput!) { metrics(query: $q) { columns { name } rows sql } }';

await describeEachEngine(
  'MetricFlow conformance on %s',
  (engine) => {
    let database: TestDatabase;
    let app: App;
    let url: string;
    let token: string;
    const outcomes = new Map<string, { pass: number; total: number }>();

    beforeAll(async () => {
      database = await createTestDatabase(engine);
      await loadSnapshots(database.db, resolve(ROOT, 'data'), SCHEMA);
      app = await createApp(database, bundledDomain(), {
        dev: true,
        maxBodyBytes: 2_000_000,
        maxRows: 200_000,
        dbtProject: resolve(ROOT, 'manifest'),
        dbtSchema: SCHEMA,
      });
      url = `http://127.0.0.1:${await app.listen(0)}/graphql`;
      token = await createApiKey(database.db, 'conformance', 'analyst');
    }, 240_000);

    afterAll(async () => {
      const lines = [...outcomes.entries()].map(([file, o]) => `  ${file}: ${o.pass}/${o.total}`);
      const pass = [...outcomes.values()].reduce((a, o) => a + o.pass, 0);
      const total = [...outcomes.values()].reduce((a, o) => a + o.total, 0);
      console.log(`MetricFlow conformance on ${engine}: ${pass}/${total} run cases pass\n${lines.join('\n')}`);
      await app?.close();
      await database?.dispose();
    });

    // Cases the API does not offer are reported as skipped, never as passed.
    it.skip.each(skipped.map((c) => [`${c.file} ${c.name} (${skipReason(c)})`, c] as const))('%s', () => {});

    it.each(runnable.map((c) => [`${c.file} ${c.name}`, c] as const))('%s', async (_title, c) => {
      const tally = outcomes.get(c.file) ?? { pass: 0, total: 0 };
      outcomes.set(c.file, { ...tally, total: tally.total + 1 });
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: QUERY, variables: { q: caseQuery(c, jinja.render) } }),
      });
      const body = (await response.json()) as {
        data?: { metrics: { columns: { name: string }[]; rows: Record<string, unknown>[]; sql: string } };
        errors?: { message: string }[];
      };
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      const result = body.data?.metrics;
      const reference = await sql.raw(jinja.render(c.check_query)).execute(database.db);
      const expected = reference.rows as Record<string, unknown>[];
      const expectedColumns = expected[0] ? Object.keys(expected[0]) : (result?.columns ?? []).map((col) => col.name);
      const problem = compareResults(
        result?.rows ?? [],
        expected,
        { actual: (result?.columns ?? []).map((col) => col.name), expected: expectedColumns },
        c.check_order === true,
      );
      expect(problem, `${problem}\nSQL: ${result?.sql}`).toBeUndefined();
      const after = outcomes.get(c.file) as { pass: number; total: number };
      outcomes.set(c.file, { ...after, pass: after.pass + 1 });
    });
  },
  { skipIf: !present },
);
