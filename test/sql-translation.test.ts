import { beforeAll, describe, expect, it } from 'vitest';
import { bundledDomain } from '../api/bundled-domain.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { loadSqlParser, parseStatements } from '../modeling/sql-interface/statements.ts';
import { semanticTables, type SqlTable } from '../modeling/sql-interface/semantic-tables.ts';
import { translateSelect, type SqlParameters, type TranslatedSelect } from '../modeling/sql-interface/translate-select.ts';
import { SqlInterfaceError } from '../modeling/sql-interface/sql-error.ts';
import { catalogDdl } from '../modeling/sql-interface/catalog-ddl.ts';

let tables: ReadonlyMap<string, SqlTable>;

beforeAll(async () => {
  await loadSqlParser();
  tables = semanticTables(indexCatalog(bundledDomain().catalog));
});

function translate(sql: string, parameters: SqlParameters = []): TranslatedSelect {
  const [statement] = parseStatements(sql, tables);
  if (statement?.kind !== 'metric') throw new Error(`not a metric statement: ${statement?.kind}`);
  return translateSelect(statement.select, tables, parameters);
}

function refusal(sql: string): { sqlstate: string; message: string } {
  try {
    translate(sql);
  } catch (error) {
    if (error instanceof SqlInterfaceError) return { sqlstate: error.sqlstate, message: error.message };
    throw error;
  }
  throw new Error(`accepted: ${sql}`);
}

describe('the semantic tables', () => {
  it('offer own and reachable dimensions, tags, metric_time grains and the metrics of each model', () => {
    const transaction = tables.get('transaction') as SqlTable;
    const names = transaction.columns.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['channel', 'customer__risk_level', 'product__product_type', 'metric_time__day', 'metric_time__year', 'purchase_amount']),
    );
    expect(transaction.byName.get('customer__risk_level')).toMatchObject({ kind: 'dimension', dimension: 'customer.risk_level', type: 'text' });
    expect(transaction.byName.get('occurred_at__week')).toMatchObject({ kind: 'dimension', dimension: 'transaction.occurred_at', grain: 'WEEK', type: 'date' });
    expect(transaction.byName.get('metric_time__month')).toMatchObject({ kind: 'dimension', dimension: 'metric_time', grain: 'MONTH', type: 'date' });
    expect(transaction.byName.get('purchase_amount')).toMatchObject({ kind: 'metric', metric: 'purchase_amount', type: 'double precision' });
    expect(transaction.description).not.toBe('');
  });

  it('becomes DDL with comments that carry the descriptions, quoted', () => {
    const ddl = catalogDdl([
      {
        name: 'we"ird',
        description: "it's",
        columns: [{ kind: 'metric', name: 'm', metric: 'm', type: 'double precision', description: 'a "b" c' }],
        byName: new Map(),
      },
    ]);
    expect(ddl).toBe(
      `CREATE TABLE public."we""ird" ("m" double precision);\nCOMMENT ON TABLE public."we""ird" IS 'it''s';\nCOMMENT ON COLUMN public."we""ird"."m" IS 'a "b" c';`,
    );
  });
});

describe('classifying statements', () => {
  it('tells metric queries, catalog queries and session commands apart', () => {
    const kinds = parseStatements(
      "SET DateStyle = ISO; SELECT version(); SHOW search_path; BEGIN; SELECT MEASURE(purchase_amount) FROM transaction; SELECT * FROM pg_catalog.pg_class WHERE relname = 'transaction'; COMMIT; DISCARD ALL",
      tables,
    ).map((s) => s.kind);
    expect(kinds).toEqual(['session', 'catalog', 'catalog', 'session', 'metric', 'catalog', 'session', 'session']);
  });

  it('refuses writes, DDL, temporary tables and mixes of semantic and catalog tables with SQLSTATEs', () => {
    const code = (sql: string) => {
      try {
        parseStatements(sql, tables);
        return 'accepted';
      } catch (error) {
        return (error as SqlInterfaceError).sqlstate;
      }
    };
    expect(code('CREATE LOCAL TEMPORARY TABLE "#Tableau_Connect_Check" ("COL" INTEGER) ON COMMIT PRESERVE ROWS')).toBe('0A000');
    expect(code("INSERT INTO transaction (channel) VALUES ('x')")).toBe('0A000');
    expect(code('DROP TABLE transaction')).toBe('0A000');
    expect(code('SELECT * FROM transaction t JOIN pg_class c ON true')).toBe('0A000');
    expect(code('SELECT relname INTO x FROM pg_class')).toBe('0A000');
    expect(code('SELEC 1')).toBe('42601');
  });
});

describe('translating SELECT into a metric query', () => {
  it('maps the API.md example: grains, reachable dimensions, MEASURE, WHERE on a grain, GROUP BY and ORDER BY positions', () => {
    const t = translate(`SELECT metric_time__month, customer__risk_level, MEASURE(purchase_amount) AS purchase_amount
      FROM transaction WHERE metric_time__month >= '2026-01-01' GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(t.query).toEqual({
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }],
      where: { kind: 'compare', dimension: 'metric_time', grain: 'MONTH', op: 'GTE', values: ['2026-01-01'] },
      orderBy: [
        { field: 'metric_time__month', direction: 'ASC' },
        { field: 'customer__risk_level', direction: 'ASC' },
      ],
    });
    expect(t.columns.map((c) => [c.name, c.type])).toEqual([
      ['metric_time__month', 'date'],
      ['customer__risk_level', 'text'],
      ['purchase_amount', 'double precision'],
    ]);
  });

  it('reads any aggregate over a metric column as the metric, with default names like PostgreSQL', () => {
    const t = translate(
      'SELECT customer__age_band AS tier, SUM(purchase_amount), avg(purchasers) FROM transaction GROUP BY tier ORDER BY 2 DESC LIMIT 5 OFFSET 5',
    );
    expect(t.query).toMatchObject({
      metrics: ['purchase_amount', 'purchasers'],
      groupBy: [{ dimension: 'customer.age_band' }],
      orderBy: [{ field: 'purchase_amount', direction: 'DESC' }],
      limit: 5,
      offset: 5,
    });
    expect(t.columns.map((c) => c.name)).toEqual(['tier', 'sum', 'avg']);
  });

  it('maps IN, BETWEEN, LIKE prefixes and substrings, IS [NOT] NULL and AND/OR/NOT, with parameters', () => {
    const t = translate(
      `SELECT channel, MEASURE(purchase_amount) FROM transaction
       WHERE customer__risk_level IN ('C1', $1) AND (metric_time__day BETWEEN $2 AND '2026-03-31' OR NOT product__product_name LIKE 'Bond%')
         AND customer__channel IS NOT NULL AND product__product_type NOT LIKE '%fund%' AND customer__age_band IS NULL AND customer__kyc_completed
       GROUP BY channel`,
      ['C2', '2026-01-01'],
    );
    expect(t.query.where).toEqual({
      kind: 'and',
      filters: [
        { kind: 'compare', dimension: 'customer.risk_level', op: 'IN', values: ['C1', 'C2'] },
        {
          kind: 'or',
          filters: [
            { kind: 'compare', dimension: 'metric_time', grain: 'DAY', op: 'BETWEEN', values: ['2026-01-01', '2026-03-31'] },
            { kind: 'not', filter: { kind: 'compare', dimension: 'product.product_name', op: 'STARTS_WITH', values: ['Bond'] } },
          ],
        },
        { kind: 'compare', dimension: 'customer.channel', op: 'IS_NOT_NULL', values: [] },
        { kind: 'not', filter: { kind: 'compare', dimension: 'product.product_type', op: 'CONTAINS', values: ['fund'] } },
        { kind: 'compare', dimension: 'customer.age_band', op: 'IS_NULL', values: [] },
        { kind: 'compare', dimension: 'customer.kyc_completed', op: 'EQ', values: ['true'] },
      ],
    });
  });

  it('reads time bounds as Superset and Metabase write them', () => {
    const t = translate(
      "SELECT channel, MEASURE(purchase_amount) FROM transaction WHERE metric_time__day >= TO_TIMESTAMP('2026-01-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US') AND metric_time__day < timestamp with time zone '2026-02-01 00:00:00.000Z' GROUP BY 1",
    );
    expect(t.query.where).toEqual({
      kind: 'and',
      filters: [
        { kind: 'compare', dimension: 'metric_time', grain: 'DAY', op: 'GTE', values: ['2026-01-01'] },
        { kind: 'compare', dimension: 'metric_time', grain: 'DAY', op: 'LT', values: ['2026-02-01'] },
      ],
    });
  });

  it('flips constants on the left and drops always-true conditions', () => {
    const t = translate("SELECT channel, MEASURE(purchase_amount) FROM transaction WHERE 1 = 1 AND '2026-01-01' <= metric_time__day GROUP BY 1");
    expect(t.query.where).toEqual({ kind: 'compare', dimension: 'metric_time', grain: 'DAY', op: 'GTE', values: ['2026-01-01'] });
  });

  it('answers LIMIT 0 and WHERE 1 = 0 with columns only (how BI tools ask for a query’s shape)', () => {
    expect(translate('SELECT * FROM "public"."transaction" "transaction" WHERE (1 = 0)').empty).toBe(true);
    expect(translate('SELECT channel, purchase_amount FROM transaction LIMIT 0').empty).toBe(true);
  });

  it('reduces wrapped subqueries (Superset virtual datasets, Tableau custom SQL) to one metric query', () => {
    const superset = translate(`SELECT risk AS risk, sum(amount) AS "SUM(amount)"
      FROM (SELECT customer__risk_level AS risk, MEASURE(purchase_amount) AS amount FROM transaction WHERE channel = 'app' GROUP BY 1) AS virtual_table
      WHERE risk <> 'C5' GROUP BY risk ORDER BY "SUM(amount)" DESC LIMIT 10000`);
    expect(superset.query).toEqual({
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'customer.risk_level' }],
      where: {
        kind: 'and',
        filters: [
          { kind: 'compare', dimension: 'transaction.channel', op: 'EQ', values: ['app'] },
          { kind: 'compare', dimension: 'customer.risk_level', op: 'NEQ', values: ['C5'] },
        ],
      },
      orderBy: [{ field: 'purchase_amount', direction: 'DESC' }],
      limit: 10000,
    });
    const projection = translate(
      'SELECT t.m, t.v FROM (SELECT metric_time__month AS m, MEASURE(purchase_amount) AS v FROM transaction GROUP BY 1 ORDER BY 1 LIMIT 3) t',
    );
    expect(projection.query).toMatchObject({ groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }], limit: 3, orderBy: [{ field: 'metric_time__month' }] });
  });

  it('accepts Tableau and Metabase spellings: CAST of dimensions, qualified names, date_trunc', () => {
    const tableau = translate(
      'SELECT CAST("transaction"."customer__risk_level" AS TEXT) AS "customer__risk_level", (MEASURE("transaction"."purchase_amount")) AS "usr:Calculation_1:ok" FROM "public"."transaction" "transaction" GROUP BY 1',
    );
    expect(tableau.query).toMatchObject({ metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.risk_level' }] });
    const metabase = translate(
      'SELECT date_trunc(\'month\', "public"."transaction"."metric_time__day") AS "metric_time__day", SUM("public"."transaction"."purchase_amount") AS "sum" FROM "public"."transaction" GROUP BY date_trunc(\'month\', "public"."transaction"."metric_time__day") ORDER BY date_trunc(\'month\', "public"."transaction"."metric_time__day") ASC',
    );
    expect(metabase.query).toMatchObject({
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
      orderBy: [{ field: 'metric_time__month', direction: 'ASC' }],
    });
    expect(metabase.columns[0]).toMatchObject({ name: 'metric_time__day', type: 'timestamp' });
  });

  it('groups by the selected dimensions when a query has no GROUP BY, and distinct values without metrics', () => {
    expect(translate('SELECT channel, purchase_amount FROM transaction').query).toMatchObject({
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'transaction.channel' }],
    });
    expect(translate('SELECT DISTINCT customer__risk_level FROM transaction').query).toEqual({ metrics: [], groupBy: [{ dimension: 'customer.risk_level' }] });
  });

  it('refuses what it cannot translate with a SQLSTATE and a message saying what is supported', () => {
    expect(refusal('SELECT nope FROM transaction')).toMatchObject({ sqlstate: '42703' });
    // An unknown table is not a semantic table: the catalog mirror answers it (42P01, as PostgreSQL).
    expect(parseStatements('SELECT channel, MEASURE(purchase_amount) FROM transactions GROUP BY 1', tables)[0]?.kind).toBe('catalog');
    expect(refusal('SELECT channel, MEASURE(purchase_amount) FROM public.transaction t, (SELECT 1) x GROUP BY 1')).toMatchObject({ sqlstate: '0A000' });
    expect(refusal('SELECT count(*) FROM transaction')).toMatchObject({ sqlstate: '0A000' });
    expect(refusal('SELECT channel, customer__risk_level, MEASURE(purchase_amount) FROM transaction GROUP BY 1')).toMatchObject({ sqlstate: '42803' });
    expect(refusal('SELECT channel, MEASURE(purchase_amount) FROM transaction GROUP BY 1 HAVING MEASURE(purchase_amount) > 0')).toMatchObject({
      sqlstate: '0A000',
    });
    expect(refusal('SELECT channel, MEASURE(purchase_amount) FROM transaction WHERE purchase_amount > 0 GROUP BY 1').message).toContain(
      'dimension columns only',
    );
    expect(refusal("SELECT channel, MEASURE(purchase_amount) FROM transaction WHERE channel LIKE 'a_p' GROUP BY 1")).toMatchObject({ sqlstate: '0A000' });
    expect(refusal('SELECT upper(channel) FROM transaction')).toMatchObject({ sqlstate: '42883' });
    expect(refusal('SELECT channel FROM transaction UNION SELECT channel FROM transaction')).toMatchObject({ sqlstate: '0A000' });
    expect(refusal('WITH x AS (SELECT 1) SELECT channel FROM transaction')).toMatchObject({ sqlstate: '0A000' });
    expect(refusal('SELECT channel, MEASURE(purchase_amount) FROM transaction GROUP BY 3')).toMatchObject({ sqlstate: '42P10' });
  });
});
