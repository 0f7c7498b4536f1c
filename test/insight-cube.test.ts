import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { cubeFeatures, cubeSql, cubeValue, groupedFeature } from '../services/insight-cube.ts';
import { binLabelSql, binsOf } from '../modeling/insight/bins.ts';
import type { InsightFeature } from '../services/insight-features.ts';

/**
 * The one-pass counting statement of insight (`cubeSql`) against the direct forms it
 * replaced: deciles equal to `percentile_disc` over the counted rows (duplicates, nulls,
 * skewed and continuous values), and per feature value the same counts as a plain GROUP BY
 * on the bin label.
 */

const FEATURES: InsightFeature[] = [
  { name: 'customer.skewed', source: { kind: 'dimension', ref: 'customer.skewed' }, type: 'number' },
  { name: 'customer.wide', source: { kind: 'dimension', ref: 'customer.wide' }, type: 'number' },
  { name: 'customer.letter', source: { kind: 'dimension', ref: 'customer.letter' }, type: 'string' },
];

// 2,000 rows: a skewed numeric feature with many duplicates and nulls, a continuous one, a string; `t` for a third of them.
const BASE = sql`WITH base AS (
  SELECT i AS k,
    CASE WHEN i % 11 = 0 THEN NULL ELSE CAST((i * i) % 7 AS numeric) END AS f0,
    CAST(round(((i * 7919) % 2003) / 3.0, 2) AS numeric) AS f1,
    CASE WHEN i % 5 = 0 THEN NULL ELSE chr(97 + i % 4) END AS f2,
    i % 3 = 0 AS t
  FROM generate_series(1, 2000) AS i
)`;

await describeEachEngine('insight counting statement on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(() => database?.dispose());

  for (const [label, where] of [
    ['every row', sql`TRUE`],
    ['the rows of a group', sql`t`],
  ] as const) {
    it(`cuts the deciles percentile_disc cuts and counts each bin as a GROUP BY does, over ${label}`, async () => {
      const { rows } = await cubeSql({ relation: BASE, features: FEATURES, where, counts: { n: sql`COUNT(*)`, in_t: sql`COUNT(*) FILTER (WHERE t)` } }).execute(
        database.db,
      );
      const binned = cubeFeatures(FEATURES, rows);
      for (const i of [0, 1]) {
        const { rows: direct } = await sql<{ edges: string[] | null }>`${BASE}
          SELECT CAST(percentile_disc(ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]::float8[]) WITHIN GROUP (ORDER BY ${sql.ref(`f${i}`)}) AS text[]) AS edges
          FROM base WHERE ${where}`.execute(database.db);
        expect(rows[0]?.[`e${i}`]).toEqual(direct[0]?.edges);
        const bins = binned[i]?.bins ?? [];
        expect(bins.length).toBeGreaterThan(1);
        const { rows: byLabel } = await sql<{ label: string | null; n: number; in_t: number }>`${BASE}
          SELECT ${binLabelSql(sql`${sql.ref(`f${i}`)}`, bins)} AS label, COUNT(*) AS n, COUNT(*) FILTER (WHERE t) AS in_t FROM base WHERE ${where} GROUP BY 1`.execute(
          database.db,
        );
        const cube = rows
          .filter((r) => groupedFeature(FEATURES.length, Number(r.grouping)) === i)
          .map((r) => ({ label: cubeValue(FEATURES, binned, r, i), n: Number(r.n), in_t: Number(r.in_t) }));
        const sort = (xs: { label: string | null }[]) => [...xs].sort((a, b) => String(a.label).localeCompare(String(b.label)));
        expect(sort(cube)).toEqual(sort(byLabel.map((r) => ({ label: r.label, n: Number(r.n), in_t: Number(r.in_t) }))));
      }
      const letters = rows.filter((r) => groupedFeature(FEATURES.length, Number(r.grouping)) === 2);
      const { rows: direct } = await sql<{ f2: string | null; n: number }>`${BASE} SELECT f2, COUNT(*) AS n FROM base WHERE ${where} GROUP BY f2`.execute(
        database.db,
      );
      expect(letters.map((r) => [r.f2, Number(r.n)]).sort()).toEqual(direct.map((r) => [r.f2, Number(r.n)]).sort());
      const totals = rows.find((r) => groupedFeature(FEATURES.length, Number(r.grouping)) === -1);
      expect(Number(totals?.n)).toBe(letters.reduce((s, r) => s + Number(r.n), 0));
    });
  }

  // Ties at the thresholds: 1,000 rows, values 1 to 10 a tenth each, so every decile's row
  // number (100, 200, ...) is the last row of a run and the next row holds the next value; the
  // letter splits each run over several combinations. A bin that took a threshold's value on
  // the wrong side, or an edge taken from the wrong row of a run, moves 100 rows.
  it('cuts the deciles at runs of equal values and puts a value equal to an edge in the bin above it', async () => {
    const features = [FEATURES[0] as InsightFeature, FEATURES[2] as InsightFeature];
    const base = sql`WITH base AS (SELECT i AS k, CAST(i % 10 + 1 AS numeric) AS f0, chr(97 + i % 3) AS f1, i % 4 = 0 AS t FROM generate_series(1, 1000) AS i)`;
    const { rows } = await cubeSql({ relation: base, features, where: sql`TRUE`, counts: { n: sql`COUNT(*)`, in_t: sql`COUNT(*) FILTER (WHERE t)` } }).execute(
      database.db,
    );
    expect(rows[0]?.e0).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const binned = cubeFeatures(features, rows);
    const counts = Object.fromEntries(
      rows.filter((r) => groupedFeature(2, Number(r.grouping)) === 0).map((r) => [cubeValue(features, binned, r, 0), Number(r.n)]),
    );
    expect(counts).toEqual({
      '[1, 2)': 100,
      '[2, 3)': 100,
      '[3, 4)': 100,
      '[4, 5)': 100,
      '[5, 6)': 100,
      '[6, 7)': 100,
      '[7, 8)': 100,
      '[8, 9)': 100,
      '>= 9': 200,
    });
  });

  it('labels a number with the bin whose [lo, hi) holds it: bounds go to the bin above, nulls stay null', async () => {
    const bins = binsOf(['10', '2.5', '-1', '7']);
    const values = ['-3', '-1', '-1.0', '0', '2.49', '2.5', '2.50', '6.999', '7', '9.9', '10', '10.00', '1e6', 'NaN', null];
    const labels = sql`(VALUES ${sql.join(bins.map((b) => sql`(${b.label}, CAST(${b.lo} AS numeric), CAST(${b.hi} AS numeric))`))}) AS b(label, lo, hi)`;
    const { rows } = await sql<{ v: string | null; got: string | null; want: string | null }>`
      SELECT v, ${binLabelSql(sql`CAST(v AS numeric)`, bins)} AS got,
        (SELECT b.label FROM ${labels} WHERE (b.lo IS NULL OR CAST(v AS numeric) >= b.lo) AND (b.hi IS NULL OR CAST(v AS numeric) < b.hi)) AS want
      FROM unnest(CAST(${values} AS text[])) AS x(v)`.execute(database.db);
    expect(rows.map((r) => [r.v, r.got])).toEqual(rows.map((r) => [r.v, r.want]));
    expect(rows.map((r) => r.got)).toEqual([
      '< -1',
      '[-1, 2.5)',
      '[-1, 2.5)',
      '[-1, 2.5)',
      '[-1, 2.5)',
      '[2.5, 7)',
      '[2.5, 7)',
      '[2.5, 7)',
      '[7, 10)',
      '[7, 10)',
      '>= 10',
      '>= 10',
      '>= 10',
      '>= 10',
      null,
    ]);
    const { rows: all } = await sql<{
      got: string | null;
    }>`SELECT ${binLabelSql(sql`CAST(v AS numeric)`, binsOf([]))} AS got FROM unnest(CAST(${['3', null]} AS text[])) AS x(v)`.execute(database.db);
    expect(all.map((r) => r.got)).toEqual(['all', null]);
  });

  // The tree's shape: keyed by a node, numeric features between the others (the bit of each
  // feature in `grouping`); and the shapes without a numeric feature or with numbers only.
  const COLUMNS = {
    letter: { feature: FEATURES[2] as InsightFeature, sql: sql`CASE WHEN i % 5 = 0 THEN NULL ELSE chr(97 + i % 4) END` },
    skewed: { feature: FEATURES[0] as InsightFeature, sql: sql`CASE WHEN i % 11 = 0 THEN NULL ELSE CAST((i * i) % 7 AS numeric) END` },
    parity: { feature: { ...(FEATURES[2] as InsightFeature), name: 'customer.parity' }, sql: sql`CAST(i % 2 = 0 AS text)` },
    wide: { feature: FEATURES[1] as InsightFeature, sql: sql`CAST(round(((i * 7919) % 2003) / 3.0, 2) AS numeric)` },
  };
  for (const [label, keys, node] of [
    ['by node, numbers between strings', ['letter', 'skewed', 'parity', 'wide'], sql`i % 3`],
    ['by node, strings only', ['letter', 'parity'], sql`i % 3`],
    ['numbers only', ['wide', 'skewed'], undefined],
  ] as const) {
    it(`counts each value per node as a GROUP BY does: ${label}`, async () => {
      const features = keys.map((key) => COLUMNS[key].feature);
      const base = sql`WITH base AS (SELECT i AS k, i % 3 = 0 AS t, ${sql.join(keys.map((key, i) => sql`${COLUMNS[key].sql} AS ${sql.ref(`f${i}`)}`))}
        FROM generate_series(1, 2000) AS i)`;
      const nodeOf = node ? sql`(k % 3)` : sql`0`;
      const { rows } = await cubeSql({
        relation: base,
        features,
        where: sql`k % 7 <> 0`,
        ...(node ? { node: nodeOf } : {}),
        counts: { n: sql`COUNT(*)`, in_t: sql`COUNT(*) FILTER (WHERE t)` },
      }).execute(database.db);
      const binned = cubeFeatures(features, rows);
      const nodeOfRow = (r: Record<string, unknown>) => (node ? Number(r.node) : 0);
      for (const [i, f] of features.entries()) {
        if (f.type === 'number') {
          const { rows: edges } = await sql<{ edges: string[] }>`${base}
            SELECT CAST(percentile_disc(ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]::float8[]) WITHIN GROUP (ORDER BY ${sql.ref(`f${i}`)}) AS text[]) AS edges
            FROM base WHERE k % 7 <> 0`.execute(database.db);
          for (const r of rows) expect(r[`e${i}`]).toEqual(edges[0]?.edges);
        }
        const value = f.type === 'number' ? binLabelSql(sql.ref(`f${i}`), binned[i]?.bins ?? []) : sql.ref(`f${i}`);
        const { rows: direct } = await sql<{ node: number; v: string | null; n: number; in_t: number }>`${base}
          SELECT ${nodeOf} AS node, ${value} AS v, COUNT(*) AS n, COUNT(*) FILTER (WHERE t) AS in_t FROM base WHERE k % 7 <> 0 GROUP BY 1, 2`.execute(
          database.db,
        );
        const cube = rows
          .filter((r) => groupedFeature(features.length, Number(r.grouping)) === i)
          .map((r) => [nodeOfRow(r), cubeValue(features, binned, r, i), Number(r.n), Number(r.in_t)]);
        expect(cube.map(String).sort()).toEqual(
          direct
            .map((r) => [Number(r.node), r.v, Number(r.n), Number(r.in_t)])
            .map(String)
            .sort(),
        );
      }
      const { rows: totals } = await sql<{
        node: number;
        n: number;
      }>`${base} SELECT ${nodeOf} AS node, COUNT(*) AS n FROM base WHERE k % 7 <> 0 GROUP BY 1`.execute(database.db);
      const cubeTotals = rows.filter((r) => groupedFeature(features.length, Number(r.grouping)) === -1).map((r) => [nodeOfRow(r), Number(r.n)]);
      expect(cubeTotals.map(String).sort()).toEqual(
        totals
          .map((r) => [Number(r.node), Number(r.n)])
          .map(String)
          .sort(),
      );
    });
  }
});
