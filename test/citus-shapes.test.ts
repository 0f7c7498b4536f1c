import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueryCompiler, type KyselyPlugin } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { correlatedSubqueries } from './support/correlated-subqueries.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { WEALTH_CORE_METRICS } from '../domains/wealth/metrics.ts';
import { CITUS_DIALECT } from '../modeling/sql/dialect.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { loadTagRegistry } from '../services/tag-registry.ts';
import { materializeProfiles } from '../services/profile-materialization.ts';
import { publishedAudiences } from '../services/audiences.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { detectSqlDialect } from '../store/sql-dialect.ts';
import { concreteRollups } from '../modeling/catalog/rollups.ts';
import { rollupBuild } from '../modeling/plan/rollup-refresh.ts';
import { sharedRollup } from '../modeling/plan/rollup-share.ts';
import { withContributorCounts } from '../modeling/privacy/contributor-catalog.ts';
import { sqlCompiler } from '../modeling/sql/sql-compiler.ts';

/**
 * The Citus dialect (docs/distribution.md): Citus 12 refuses a correlated subquery in a
 * statement whose FROM holds a CTE or subquery, and every metric statement is one. Citus is
 * not packaged for these machines, so its rules are checked on the SQL: in Citus mode no
 * statement of a core metric (in the shapes dashboards ask for) nor of a materialization has
 * a correlated subquery, while the PostgreSQL dialect keeps its faster correlated shapes (the
 * semi-additive probe, the EXISTS test of conversion anchors); and the Citus-shaped
 * statements run on PostgreSQL give the rows of the default ones.
 */

const RANGE = { from: '2026-01-01', to: '2026-07-01' };

/** Each core metric by month; by month and a customer dimension; by week; and as one total. */
const QUERIES: readonly MetricQuery[] = WEALTH_CORE_METRICS.flatMap((metric): MetricQuery[] => [
  { metrics: [metric], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }], timeRange: RANGE },
  { metrics: [metric], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }], timeRange: RANGE },
  { metrics: [metric], groupBy: [{ dimension: 'metric_time', grain: 'WEEK' }], timeRange: { from: '2026-03-02', to: '2026-04-27' } },
  { metrics: [metric], timeRange: RANGE },
  {
    metrics: [metric],
    groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
    where: { kind: 'compare', dimension: 'customer.channel', op: 'IN', values: ['app', 'web'] },
    timeRange: RANGE,
  },
]);

const title = (q: MetricQuery) =>
  `${q.metrics.join('+')} by ${(q.groupBy ?? []).map((g) => g.grain ?? g.dimension).join(', ') || 'nothing'}${q.where ? ' where channel' : ''}`;

/** The rollups the bundled domain ships, indexed as the refresh worker indexes them (with contributor counts). */
const rollupIndex = indexCatalog(withContributorCounts(wealthCatalog(), 'customer').catalog);
const ROLLUPS = concreteRollups(rollupIndex.catalog).map((r) => r.name);
const REFRESHED = { from: '2026-03-01', to: '2026-04-01' };
const refreshSql = (name: string, dialect?: typeof CITUS_DIALECT) => rollupBuild(rollupIndex, name, dialect).statement(REFRESHED);

const postgres = createSemanticLayer(wealthCatalog(), { maxRows: 100_000 });
const citus = createSemanticLayer(wealthCatalog(), { maxRows: 100_000, dialect: CITUS_DIALECT });

describe('generated SQL in the Citus dialect', () => {
  it.each(QUERIES.map((q) => [title(q), q] as const))('%s has no correlated subquery', (_title, query) => {
    expect(correlatedSubqueries(citus.plan(query).compiled.sql)).toEqual([]);
  });

  it('differs from PostgreSQL’s exactly where PostgreSQL correlates: the conversion test', () => {
    const correlatedOnPostgres = new Set<string>();
    for (const query of QUERIES) {
      const found = correlatedSubqueries(postgres.plan(query).compiled.sql);
      if (found.length > 0) correlatedOnPostgres.add(query.metrics[0] as string);
      else expect(citus.plan(query).compiled.sql).toBe(postgres.plan(query).compiled.sql);
    }
    // AUM by periods of these bounded ranges probes each period's last day apart, and first-in-period
    // anchors by month are left-joined to each month's conversions: uncorrelated on both dialects.
    expect([...correlatedOnPostgres].sort()).toEqual(['first_purchase_success_rate', 'revisit_rate_7d']);
  });

  it.each(ROLLUPS.map((name) => [name] as const))('the refresh of rollup %s has no correlated subquery', (name) => {
    expect(correlatedSubqueries(refreshSql(name, CITUS_DIALECT).compile(sqlCompiler).sql)).toEqual([]);
  });

  it('the shared refresh of the core rollups by every customer dimension has no correlated subquery', () => {
    const members = concreteRollups(rollupIndex.catalog).filter((r) => r.declared.name === 'core_monthly' || r.declared.name === 'core_monthly_by');
    const shared = rollupBuild(rollupIndex, sharedRollup(members), CITUS_DIALECT).statement(REFRESHED);
    expect(correlatedSubqueries(shared.compile(sqlCompiler).sql)).toEqual([]);
  });

  it('finds the correlations it is meant to find', () => {
    expect(correlatedSubqueries(`SELECT a.x FROM t AS a WHERE EXISTS (SELECT 1 FROM (SELECT y FROM u) AS c WHERE c.y = a.x)`)).toHaveLength(1);
    expect(correlatedSubqueries(`SELECT a.x FROM t AS a WHERE a.x IN (SELECT MAX(c.y) FROM u AS c GROUP BY c.z)`)).toEqual([]);
    expect(
      correlatedSubqueries(
        `WITH n AS (SELECT 1 AS g) SELECT "n"."g" FROM "n" WHERE "n"."g" = ANY(ARRAY(SELECT (SELECT v.t FROM w AS v WHERE v.t < p.s LIMIT 1) FROM generate_series(1, 2) AS p(s)))`,
      ),
    ).toHaveLength(1);
  });
});

await describeEachEngine('Citus-shaped statements give the default rows on %s', (engine) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 400, seed: 23 });
  });
  afterAll(() => database?.dispose());

  it.each(QUERIES.map((q) => [title(q), q] as const))('%s', async (_title, query) => {
    const expected = (await postgres.query(database.db, query)).rows;
    const actual = (await citus.query(database.db, query)).rows;
    expect(actual).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  it.each(ROLLUPS.map((name) => [name] as const))('refreshes rollup %s with the default rows', async (name) => {
    const sorted = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
    const expected = sorted((await refreshSql(name).execute(database.db)).rows);
    expect(sorted((await refreshSql(name, CITUS_DIALECT).execute(database.db)).rows)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  it('materializes the tags with statements free of correlated subqueries', async () => {
    const statements: string[] = [];
    const compiler = new PostgresQueryCompiler();
    const capture: KyselyPlugin = {
      transformQuery: ({ node, queryId }) => {
        statements.push(compiler.compileQuery(node, queryId).sql);
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const domain = bundledDomain();
    const registry = await loadTagRegistry(database.db, domain.tags);
    const run = await materializeProfiles({
      database: { ...database, db: database.db.withPlugin(capture) },
      subject: tagSubject(indexCatalog(domain.catalog), domain.subject),
      tags: [...registry.live.values()],
      audiences: publishedAudiences,
      actor: 'citus-rules',
    });
    expect(run.customers).toBe(400);
    const computing = statements.filter((s) => /customer_profiles/i.test(s) && /insert/i.test(s));
    expect(computing.length).toBeGreaterThan(0);
    for (const statement of statements) expect(correlatedSubqueries(statement), statement.slice(0, 300)).toEqual([]);
  });

  it('detects the dialect from the installed extensions', async () => {
    // No Citus here: PostgreSQL (and PGlite) keep the default dialect.
    expect((await detectSqlDialect(database)).name).toBe('postgres');
  });
});
