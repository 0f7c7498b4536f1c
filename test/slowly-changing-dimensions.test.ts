import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { importDbtProject } from '../modeling/dbt/import-dbt-project.ts';
import { defineModel } from '../modeling/dsl/define-model.ts';
import { defineMetric } from '../modeling/dsl/define-metric.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import type { Catalog } from '../modeling/catalog/types.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { explainPlan } from '../modeling/plan/explain-plan.ts';

/**
 * Slowly changing dimensions (type II), as MetricFlow documents them: a dimension table whose
 * rows are versions of a key, each valid from one time until another (null while current).
 * A metric sliced or filtered by such a dimension reads, for each fact row, the version valid
 * at the row's time: `start <= t AND (end IS NULL OR t < end)`. A fact before the first
 * version, after the last one ended, or of an unknown key has no version (null).
 *
 * The fixture is our own: rentals of listings whose capacity and host changed, hosts (not
 * versioned, reached through the versioned listings), and agencies whose rating changed,
 * reached through a plain mapping table. Expected rows are computed by hand below.
 */

const SCHEMA = 'scd_fx';

const SEMANTIC_MODELS = `
semantic_models:
  - name: rentals
    node_relation: { schema_name: $source_schema, alias: fct_rentals }
    defaults: { agg_time_dimension: rented_on }
    entities:
      - { name: rental, type: primary, expr: rental_id }
      - { name: listing, type: foreign, expr: listing_id }
    dimensions:
      - { name: rented_on, type: time, type_params: { time_granularity: day } }
    measures:
      - { name: rentals, agg: sum, expr: 1 }
      - { name: nights, agg: sum }
  - name: listing_history
    node_relation: { schema_name: $source_schema, alias: dim_listing_history }
    entities:
      - { name: listing, type: natural, expr: listing_id }
      - { name: host, type: foreign, expr: host_id }
    dimensions:
      - { name: listed_from, type: time, expr: valid_from, type_params: { time_granularity: day, validity_params: { is_start: true } } }
      - { name: listed_to, type: time, expr: valid_to, type_params: { time_granularity: day, validity_params: { is_end: true } } }
      - { name: capacity, type: categorical }
  - name: hosts
    node_relation: { schema_name: $source_schema, alias: dim_hosts }
    entities: [{ name: host, type: primary, expr: host_id }]
    dimensions: [{ name: country, type: categorical }]
  - name: listing_registry
    node_relation: { schema_name: $source_schema, alias: dim_listing_registry }
    entities:
      - { name: listing, type: primary, expr: listing_id }
      - { name: agency, type: foreign, expr: agency_id }
  - name: agency_history
    node_relation: { schema_name: $source_schema, alias: dim_agency_history }
    entities: [{ name: agency, type: natural, expr: agency_id }]
    dimensions:
      - { name: rated_from, type: time, expr: starts, type_params: { time_granularity: day, validity_params: { is_start: true } } }
      - { name: rated_to, type: time, expr: ends, type_params: { time_granularity: day, validity_params: { is_end: true } } }
      - { name: rating, type: categorical }
`;

const METRICS = `
metrics:
  - { name: rentals, type: simple, type_params: { measure: rentals } }
  - { name: nights, type: simple, type_params: { measure: nights } }
  - name: large_rentals
    type: simple
    type_params: { measure: rentals }
    filter: "{{ Dimension('listing__capacity') }} >= 4"
`;

const DDL = [
  `CREATE SCHEMA ${SCHEMA}`,
  `CREATE TABLE ${SCHEMA}.fct_rentals (rental_id text, listing_id text, rented_on date, nights int)`,
  `CREATE TABLE ${SCHEMA}.dim_listing_history (listing_id text, host_id text, capacity int, valid_from date, valid_to date)`,
  `CREATE TABLE ${SCHEMA}.dim_hosts (host_id text, country text)`,
  `CREATE TABLE ${SCHEMA}.dim_listing_registry (listing_id text, agency_id text)`,
  `CREATE TABLE ${SCHEMA}.dim_agency_history (agency_id text, rating text, starts date, ends date)`,
  // L1 changed host and capacity on the 10th; L2 was listed from the 5th to the 20th only.
  `INSERT INTO ${SCHEMA}.dim_listing_history VALUES
     ('L1', 'h1', 2, '2024-01-01', '2024-01-10'), ('L1', 'h2', 4, '2024-01-10', NULL),
     ('L2', 'h1', 3, '2024-01-05', '2024-01-20'), ('L3', 'h3', 6, '2024-01-01', NULL)`,
  `INSERT INTO ${SCHEMA}.dim_hosts VALUES ('h1', 'FR'), ('h2', 'DE'), ('h3', 'FR')`,
  `INSERT INTO ${SCHEMA}.dim_listing_registry VALUES ('L1', 'A1'), ('L2', 'A2'), ('L3', 'A1')`,
  // A1 was downgraded on the 15th; A2 was rated only from the 8th.
  `INSERT INTO ${SCHEMA}.dim_agency_history VALUES ('A1', 'gold', '2024-01-01', '2024-01-15'), ('A1', 'silver', '2024-01-15', NULL),
     ('A2', 'bronze', '2024-01-08', NULL)`,
  `INSERT INTO ${SCHEMA}.fct_rentals VALUES
     ('r1', 'L1', '2024-01-03', 2), ('r2', 'L1', '2024-01-09', 1), ('r3', 'L1', '2024-01-10', 3), ('r4', 'L1', '2024-01-16', 2),
     ('r5', 'L2', '2024-01-04', 5), ('r6', 'L2', '2024-01-12', 1), ('r7', 'L2', '2024-01-25', 2),
     ('r8', 'L3', '2024-01-15', 4), ('r9', 'L9', '2024-01-05', 1)`,
];

/** The same warehouse described with the TypeScript DSL: `validity` marks the versioned models. */
function dslCatalog(): Catalog {
  const owner = 'test';
  return buildCatalog({
    models: [
      defineModel({
        name: 'rental',
        description: 'Rentals',
        owner,
        table: `${SCHEMA}.fct_rentals`,
        primaryKey: 'rental_id',
        timeZone: 'UTC',
        defaultTimeDimension: 'rented_on',
        dimensions: { rented_on: { type: 'time', storage: 'date', description: 'Day rented' } },
        measures: {
          rentals: { aggregation: 'count', description: 'Rentals' },
          nights: { aggregation: 'sum', description: 'Nights' },
        },
        joins: {
          listing: { model: 'listing', cardinality: 'many_to_one', on: { listing_id: 'listing_id' } },
          registry: { model: 'registry', cardinality: 'many_to_one', on: { listing_id: 'listing_id' } },
        },
      }),
      defineModel({
        name: 'listing',
        description: 'Versions of listings',
        owner,
        table: `${SCHEMA}.dim_listing_history`,
        primaryKey: ['listing_id', 'valid_from'],
        timeZone: 'UTC',
        validity: { start: 'valid_from', end: 'valid_to' },
        dimensions: {
          capacity: { type: 'number', description: 'Guests' },
          valid_from: { type: 'time', storage: 'date', description: 'Version start' },
          valid_to: { type: 'time', storage: 'date', description: 'Version end' },
        },
        joins: { host: { model: 'host', cardinality: 'many_to_one', on: { host_id: 'host_id' } } },
      }),
      defineModel({
        name: 'host',
        description: 'Hosts',
        owner,
        table: `${SCHEMA}.dim_hosts`,
        primaryKey: 'host_id',
        timeZone: 'UTC',
        dimensions: { country: { type: 'string', description: 'Country' } },
      }),
      defineModel({
        name: 'registry',
        description: 'Listing to agency',
        owner,
        table: `${SCHEMA}.dim_listing_registry`,
        primaryKey: 'listing_id',
        timeZone: 'UTC',
        dimensions: { agency_id: { type: 'string', description: 'Agency' } },
        joins: { agency: { model: 'agency', cardinality: 'many_to_one', on: { agency_id: 'agency_id' } } },
      }),
      defineModel({
        name: 'agency',
        description: 'Versions of agency ratings',
        owner,
        table: `${SCHEMA}.dim_agency_history`,
        primaryKey: ['agency_id', 'starts'],
        timeZone: 'UTC',
        validity: { start: 'starts', end: 'ends' },
        dimensions: {
          rating: { type: 'string', description: 'Rating' },
          starts: { type: 'time', storage: 'date', description: 'Rated from' },
          ends: { type: 'time', storage: 'date', description: 'Rated until' },
        },
      }),
    ],
    metrics: [
      defineMetric({ name: 'rentals', type: 'SIMPLE', measure: 'rental.rentals', description: 'Rentals', owner }),
      defineMetric({ name: 'nights', type: 'SIMPLE', measure: 'rental.nights', description: 'Nights', owner }),
      defineMetric({
        name: 'large_rentals',
        type: 'SIMPLE',
        measure: 'rental.rentals',
        filter: { dimension: 'listing.capacity', op: 'GTE', values: ['4'] },
        description: 'Rentals of listings for 4 or more',
        owner,
      }),
    ],
  });
}

const dirs: string[] = [];
function dbtCatalog(): Catalog {
  const dir = mkdtempSync(join(tmpdir(), 'strata-scd-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'models.yml'), SEMANTIC_MODELS);
  writeFileSync(join(dir, 'metrics.yml'), METRICS);
  return importDbtProject(dir, { schema: SCHEMA }).catalog;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Rows sorted by their JSON text, so that the comparison does not depend on the row order. */
const sorted = (rows: readonly Record<string, unknown>[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Names of the same members in each front end: MetricFlow's `entity__dimension`, Strata's `role.dimension`. */
const FRONT_ENDS = [
  { name: 'dbt project', catalog: dbtCatalog, capacity: 'listing__capacity', country: 'listing__host__country', rating: 'listing__agency__rating' },
  { name: 'TypeScript DSL', catalog: dslCatalog, capacity: 'listing.capacity', country: 'host.country', rating: 'agency.rating' },
] as const;

await describeEachEngine('slowly changing dimensions on %s', (engine) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    for (const statement of DDL) await sql.raw(statement).execute(database.db);
  });
  afterAll(() => database?.dispose());

  describe.each(FRONT_ENDS)('from a $name', (front) => {
    let layer: SemanticLayer;
    beforeAll(() => {
      layer = createSemanticLayer(front.catalog(), { maxRows: 1000 });
    });
    const run = async (query: MetricQuery) => sorted((await layer.query(database.db, query)).rows);
    const month = { dimension: 'metric_time', grain: 'MONTH' } as const;
    const col = (name: string) => name.replaceAll('.', '__');

    it('groups each rental by the version valid on its day (before, at and after a change)', async () => {
      const rows = await run({ metrics: ['rentals', 'nights'], groupBy: [month, { dimension: front.capacity }] });
      // r1, r2 before L1's change (2); r3 on the day of it and r4 after (4); r6 within L2's
      // window (3); r8 (6); r5 before L2 was listed, r7 after it ended, r9 of no listing: none.
      const cap = col(front.capacity);
      const got = rows.map((r) => [r.metric_time__month, normalize(r[cap]), r.rentals, r.nights]);
      expect(got.sort((a, b) => Number(a[1] ?? 99) - Number(b[1] ?? 99))).toEqual([
        ['2024-01-01', 2, 2, 3],
        ['2024-01-01', 3, 1, 1],
        ['2024-01-01', 4, 2, 5],
        ['2024-01-01', 6, 1, 4],
        ['2024-01-01', null, 3, 8],
      ]);
    });

    it('picks the new version from the first day it is valid', async () => {
      const rows = await run({
        metrics: ['rentals'],
        groupBy: [{ dimension: 'metric_time', grain: 'DAY' }, { dimension: front.capacity }],
        where: { kind: 'compare', dimension: front.capacity, op: 'IN', values: ['2', '4'] },
      });
      expect(rows.map((r) => [r.metric_time__day, normalize(r[col(front.capacity)]), r.rentals])).toEqual([
        ['2024-01-03', 2, 1],
        ['2024-01-09', 2, 1],
        ['2024-01-10', 4, 1],
        ['2024-01-16', 4, 1],
      ]);
    });

    it('follows a plain join beyond the versioned model from the version of the day', async () => {
      const rows = await run({ metrics: ['rentals', 'nights'], groupBy: [month, { dimension: front.country }] });
      // FR: r1, r2 (h1), r6 (h1), r8 (h3); DE: r3, r4 (h2 from the 10th); none: r5, r7, r9.
      expect(rows.map((r) => [r[col(front.country)], r.rentals, r.nights])).toEqual([
        ['DE', 2, 5],
        ['FR', 4, 8],
        [null, 3, 8],
      ]);
    });

    it('bounds a versioned model reached through a plain one by the rental day', async () => {
      const rows = await run({ metrics: ['rentals'], groupBy: [month, { dimension: front.rating }] });
      // gold: r1, r2, r3 (A1 before the 15th); silver: r4, r8 (A1 from the 15th); bronze: r6,
      // r7 (A2 from the 8th); none: r5 (A2 not yet rated), r9 (no registry row).
      expect(rows.map((r) => [r[col(front.rating)], r.rentals])).toEqual([
        ['bronze', 2],
        ['gold', 3],
        ['silver', 2],
        [null, 2],
      ]);
    });

    it('filters by the version of the day, in a metric filter and in a query filter', async () => {
      expect(await run({ metrics: ['large_rentals'], groupBy: [month] })).toEqual([{ metric_time__month: '2024-01-01', large_rentals: 3 }]);
      // A filter alone needs no metric_time: each row still has its own day.
      expect(await run({ metrics: ['large_rentals'] })).toEqual([{ large_rentals: 3 }]);
      expect(await run({ metrics: ['nights'], where: { kind: 'compare', dimension: front.capacity, op: 'EQ', values: ['2'] } })).toEqual([{ nights: 3 }]);
    });

    it('refuses a versioned dimension grouped without metric_time, with a code and the way out', async () => {
      for (const dimension of [front.capacity, front.country]) {
        await expect(layer.query(database.db, { metrics: ['rentals'], groupBy: [{ dimension }] })).rejects.toMatchObject({
          code: 'INVALID_QUERY',
          details: { reason: 'SCD_REQUIRES_METRIC_TIME', dimensions: [dimension] },
          message: expect.stringContaining('metric_time'),
        });
      }
    });
  });

  it('matches hand-written SQL joining the valid version', async () => {
    const layer = createSemanticLayer(dbtCatalog(), { maxRows: 1000 });
    const ours = sorted(
      (await layer.query(database.db, { metrics: ['nights'], groupBy: [{ dimension: 'metric_time', grain: 'DAY' }, { dimension: 'listing__capacity' }] })).rows,
    );
    const reference = await sql
      .raw(
        `SELECT r.rented_on AS day, h.capacity, SUM(r.nights) AS nights FROM ${SCHEMA}.fct_rentals r
         LEFT JOIN ${SCHEMA}.dim_listing_history h ON h.listing_id = r.listing_id AND r.rented_on >= h.valid_from AND (h.valid_to IS NULL OR r.rented_on < h.valid_to)
         GROUP BY 1, 2`,
      )
      .execute(database.db);
    const expected = sorted(
      (reference.rows as { day: unknown; capacity: unknown; nights: unknown }[]).map((r) => ({
        metric_time__day: dayText(r.day),
        listing__capacity: r.capacity === null ? null : String(r.capacity),
        nights: Number(r.nights),
      })),
    );
    expect(ours.map((r) => ({ ...r, listing__capacity: r.listing__capacity === null ? null : String(r.listing__capacity) }))).toEqual(expected);
  });
});

/** Capacities come back as numbers (DSL) or as the column's text (categorical dbt dimension). */
function normalize(value: unknown): unknown {
  return value === null || value === undefined ? null : Number(value);
}

function dayText(value: unknown): string {
  if (value instanceof Date) return new Date(value.getTime() - value.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

describe('validating a model with a validity window', () => {
  const owner = 'test';
  const versions = (name: string, extra: Partial<Parameters<typeof defineModel>[0]> = {}) =>
    defineModel({
      name,
      description: 'Versions',
      owner,
      table: `${SCHEMA}.${name}`,
      primaryKey: ['id', 'valid_from'],
      validity: { start: 'valid_from', end: 'valid_to' },
      dimensions: {
        label: { type: 'string', description: 'Label' },
        valid_from: { type: 'time', storage: 'date', description: 'From' },
        valid_to: { type: 'time', storage: 'date', description: 'To' },
      },
      ...extra,
    });
  const problems = (models: Parameters<typeof buildCatalog>[0]['models']) => {
    try {
      buildCatalog({ models, metrics: [] });
    } catch (error) {
      return (error as { problems: { path: string; code: string }[] }).problems.map((p) => `${p.path} ${p.code}`);
    }
    return [];
  };

  it('accepts two time dimensions bounding the rows', () => {
    expect(problems([versions('a')])).toEqual([]);
  });

  it('refuses a window on a missing or non-time dimension, on one dimension, or holding measures', () => {
    expect(problems([versions('a', { validity: { start: 'label', end: 'gone' } })])).toEqual([
      'models.a.validity.start TYPE_MISMATCH',
      'models.a.validity.end UNKNOWN_MEMBER',
    ]);
    expect(problems([versions('a', { validity: { start: 'valid_from', end: 'valid_from' } })])).toEqual(['models.a.validity INVALID_VALIDITY_WINDOW']);
    expect(problems([versions('a', { defaultTimeDimension: 'valid_from', measures: { versions: { aggregation: 'count', description: 'n' } } })])).toEqual([
      'models.a.validity INVALID_VALIDITY_WINDOW',
    ]);
  });

  it('refuses a join between two models with a window', () => {
    const joined = versions('a', { joins: { b: { model: 'b', cardinality: 'many_to_one', on: { id: 'id' } } } });
    expect(problems([joined, versions('b')])).toEqual(['models.a.joins.b INVALID_JOIN']);
  });
});

describe('the plan of a query over a slowly changing dimension', () => {
  it('marks the joins that keep only the row valid at each row time, and explains them', () => {
    const layer = createSemanticLayer(dslCatalog(), { maxRows: 10 });
    const { plan } = layer.plan({ metrics: ['rentals'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'host.country' }] });
    expect(plan.nodes[0]?.joins).toEqual([
      { path: 'listing', model: 'listing', validity: { start: 'valid_from', end: 'valid_to' } },
      { path: 'listing/host', model: 'host' },
    ]);
    expect(explainPlan(plan)).toContain("join: listing -> listing, the row valid at each row's time (valid_from <= t < valid_to or open)");
  });
});
