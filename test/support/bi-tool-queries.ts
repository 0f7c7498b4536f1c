/**
 * The metadata and query shapes BI tools send over the PostgreSQL protocol, written against
 * the bundled domain's tables. Each names where its shape comes from: the tool's driver or
 * documentation, or the public issue in which it was recorded failing against another SQL
 * API. The SQL endpoint suite replays them over the simple and the extended protocol.
 */
export interface BiToolQuery {
  readonly tool: 'Metabase' | 'Superset' | 'Tableau' | 'Excel (psqlODBC)' | 'JDBC';
  readonly what: string;
  readonly source: string;
  readonly sql: string;
  /** What the answer must show: rows naming these values, or an error with this SQLSTATE. */
  readonly expect: { readonly rowsMention: readonly string[] } | { readonly rows: 'any' } | { readonly error: string };
}

export const BI_TOOL_QUERIES: readonly BiToolQuery[] = [
  {
    tool: 'JDBC',
    what: 'session setup of pgjdbc on connect',
    source: 'pgjdbc ConnectionFactoryImpl (extra_float_digits, application_name)',
    sql: "SET extra_float_digits = 3; SET application_name = 'Metabase v0.55'",
    expect: { rows: 'any' },
  },
  {
    tool: 'JDBC',
    what: 'current_catalog (pgjdbc 42.7.6+ getCatalog)',
    source: 'cube-js/cube#9833',
    sql: 'SELECT current_catalog',
    expect: { rows: 'any' },
  },
  {
    tool: 'JDBC',
    what: 'DatabaseMetaData.getTables with table comments',
    source: 'pgjdbc PgDatabaseMetaData.getTables',
    sql: `SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,
        CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema' WHEN true THEN 'SYSTEM TABLE' ELSE CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW' ELSE NULL END END AS TABLE_TYPE,
        d.description AS REMARKS
      FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c
      LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass)
      WHERE c.relnamespace = n.oid AND c.relname LIKE '%' AND n.nspname = 'public' ORDER BY TABLE_TYPE, TABLE_SCHEM, TABLE_NAME`,
    expect: { rowsMention: ['transaction', 'customer', 'Purchases, redemptions and dividends'] },
  },
  {
    tool: 'JDBC',
    what: 'DatabaseMetaData.getIndexInfo (pg_get_indexdef, indoption)',
    source: 'cube-js/cube#8251, cube-js/cube#8201',
    sql: `SELECT tmp.table_schem, tmp.table_name, tmp.index_name,
        trim(both '"' from pg_catalog.pg_get_indexdef(tmp.ci_oid, tmp.ordinal_position, false)) AS column_name,
        CASE tmp.am_name WHEN 'btree' THEN CASE tmp.i_indoption[tmp.ordinal_position - 1] & 1::smallint WHEN 1 THEN 'D' ELSE 'A' END ELSE NULL END AS asc_or_desc
      FROM (SELECT n.nspname AS table_schem, ct.relname AS table_name, ci.relname AS index_name, (information_schema._pg_expandarray(i.indkey)).n AS ordinal_position,
                   ci.oid AS ci_oid, i.indoption AS i_indoption, am.amname AS am_name
            FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
            JOIN pg_catalog.pg_index i ON (ct.oid = i.indrelid) JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)
            JOIN pg_catalog.pg_am am ON (ci.relam = am.oid)
            WHERE n.nspname = 'public' AND ct.relname = 'transaction') AS tmp
      ORDER BY tmp.index_name, tmp.ordinal_position`,
    expect: { rows: 'any' },
  },
  {
    tool: 'Metabase',
    what: 'describe-fields: types with format(), comments through col_description and regclass',
    source: 'cube-js/cube#9126 (Metabase 0.52 sync)',
    sql: `SELECT c.column_name AS "name",
        CASE WHEN c.udt_schema IN ('public', 'pg_catalog') THEN format('%s', c.udt_name) ELSE format('"%s"."%s"', c.udt_schema, c.udt_name) END AS "database-type",
        c.ordinal_position - 1 AS "database-position", c.table_schema AS "table-schema", c.table_name AS "table-name",
        col_description(CAST(CAST(format('%I.%I', CAST(c.table_schema AS text), CAST(c.table_name AS text)) AS regclass) AS oid), c.ordinal_position) AS "field-comment"
      FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = 'transaction' ORDER BY "database-position"`,
    expect: { rowsMention: ['customer__risk_level', 'metric_time__month', 'purchase_amount', 'float8', 'Sum of succeeded purchase amounts (CNY).'] },
  },
  {
    tool: 'Metabase',
    what: 'table privileges (which tables may be selected)',
    source: 'cube-js/cube#8144 (Metabase 0.49 sync)',
    sql: `WITH table_privileges AS (
        SELECT NULL AS role, t.schemaname AS schema, t.objectname AS table,
          pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"', 'select') AS select
        FROM (SELECT schemaname, tablename AS objectname FROM pg_catalog.pg_tables UNION SELECT schemaname, viewname AS objectname FROM pg_catalog.pg_views) t
        WHERE t.schemaname !~ '^pg_' AND t.schemaname <> 'information_schema')
      SELECT t.* FROM table_privileges t`,
    expect: { rowsMention: ['transaction', 'holding'] },
  },
  {
    tool: 'Metabase',
    what: 'a question: sum of a metric by month, qualified names and date_trunc',
    source: 'Metabase PostgreSQL driver (MBQL compiled to SQL)',
    sql: `SELECT date_trunc('month', "public"."transaction"."metric_time__day") AS "metric_time__day", SUM("public"."transaction"."purchase_amount") AS "sum"
      FROM "public"."transaction" WHERE "public"."transaction"."metric_time__day" >= timestamp with time zone '2026-01-01 00:00:00.000Z'
      GROUP BY date_trunc('month', "public"."transaction"."metric_time__day") ORDER BY date_trunc('month', "public"."transaction"."metric_time__day") ASC`,
    expect: { rowsMention: ['2026-01-01 00:00:00'] },
  },
  {
    tool: 'Superset',
    what: 'SQLAlchemy dialect initialization',
    source: 'SQLAlchemy postgresql dialect (server version, schema, string handling)',
    sql: "select pg_catalog.version(); select current_schema(); show standard_conforming_strings; SELECT CAST('test plain returns' AS VARCHAR(60)) AS anon_1; show transaction isolation level",
    expect: { rows: 'any' },
  },
  {
    tool: 'Superset',
    what: 'a chart over a virtual dataset (the dataset SQL wrapped as a subquery)',
    source: 'apache/superset#26646 (virtual_table wrapping)',
    sql: `SELECT risk AS risk, sum(amount) AS "SUM(amount)"
      FROM (SELECT customer__risk_level AS risk, MEASURE(purchase_amount) AS amount FROM transaction GROUP BY 1) AS virtual_table
      GROUP BY risk ORDER BY "SUM(amount)" DESC LIMIT 10000`,
    expect: { rowsMention: ['C3'] },
  },
  {
    tool: 'Superset',
    what: 'a time-series chart: DATE_TRUNC and TO_TIMESTAMP bounds',
    source: 'Superset PostgreSQL engine spec (time grains, datetime literals)',
    sql: `SELECT DATE_TRUNC('quarter', metric_time__day) AS metric_time__day, sum(purchase_amount) AS "SUM(purchase_amount)" FROM public.transaction
      WHERE metric_time__day >= TO_TIMESTAMP('2025-11-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US') AND metric_time__day < TO_TIMESTAMP('2026-11-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
      GROUP BY DATE_TRUNC('quarter', metric_time__day) LIMIT 50000`,
    expect: { rowsMention: ['2026-01-01 00:00:00'] },
  },
  {
    tool: 'Tableau',
    what: 'CAST of a dimension next to MEASURE, grouped by position',
    source: 'cube-js/cube#7078',
    sql: `SELECT CAST("transaction"."customer__risk_level" AS TEXT) AS "customer__risk_level", (MEASURE("transaction"."purchase_amount")) AS "usr:Calculation_4813292534336577536:ok"
      FROM "public"."transaction" "transaction" GROUP BY 1`,
    expect: { rowsMention: ['C1', 'C5'] },
  },
  {
    tool: 'Tableau',
    what: 'the shape of a table without its rows',
    source: 'Tableau PostgreSQL connector (metadata query before a live query)',
    sql: 'SELECT * FROM "public"."transaction" "transaction" WHERE (1 = 0)',
    expect: { rows: 'any' },
  },
  {
    tool: 'Tableau',
    what: 'an extract query: the measure first, the dimension grouped by position 2',
    source: 'cube-js/cube#10721 (Tableau extract refresh)',
    sql: `SELECT SUM("transaction"."purchase_amount") AS "sum:purchase_amount:ok", "transaction"."channel" AS "channel"
      FROM "public"."transaction" "transaction" GROUP BY 2`,
    expect: { rowsMention: ['app', 'web'] },
  },
  {
    tool: 'Tableau',
    what: 'an extract read through a temporary table (refused with 0A000 and what to do instead)',
    source: 'cube-js/cube#10721 (Tableau extract refresh)',
    sql: `CREATE LOCAL TEMPORARY TABLE "#Tableau_37_1_Extract" ("channel" TEXT, "sum:purchase_amount:ok" DOUBLE PRECISION) ON COMMIT PRESERVE ROWS`,
    expect: { error: '0A000' },
  },
  {
    tool: 'Tableau',
    what: 'temporary-table capability probe of an extract (refused; Tableau then uses subqueries)',
    source: 'cube-js/cube#10721',
    sql: 'CREATE LOCAL TEMPORARY TABLE "#Tableau_1_Connect_Check" ("COL" INTEGER) ON COMMIT PRESERVE ROWS',
    expect: { error: '0A000' },
  },
  {
    tool: 'Tableau',
    what: 'GROUP BY position probe (PostgreSQL itself refuses position 2 of a one-column list)',
    source: 'cube-js/cube#10721',
    sql: 'SELECT "SUBCOL" AS "COL" FROM (SELECT 1 AS "SUBCOL") "SUBQUERY" GROUP BY 2',
    expect: { error: '42P10' },
  },
  {
    tool: 'Excel (psqlODBC)',
    what: 'connect: settings, large-object type, encodings',
    source: 'psqlODBC connection.c; cube-js/cube#6417 (pg_encoding_to_char)',
    sql: "set DateStyle to 'ISO'; set extra_float_digits to 2; show transaction_isolation; select oid, typbasetype from pg_type where typname = 'lo'; select pg_encoding_to_char(encoding) from pg_database where datname = current_database()",
    expect: { rows: 'any' },
  },
];
