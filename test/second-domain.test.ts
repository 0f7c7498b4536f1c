/**
 * The platform serves whatever Domain it is given: a tiny library domain (members and their
 * loans, one tag, one event), unrelated to the bundled wealth domain, through the same
 * `createApp`. Its catalog, events, metrics, tags and event collection answer from it alone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { defineDomain, DomainDefinitionError, type Domain } from '../modeling/domain/define-domain.ts';
import { defineEvent } from '../modeling/events/define-event.ts';
import { defineMetric } from '../modeling/dsl/define-metric.ts';
import { defineModel } from '../modeling/dsl/define-model.ts';
import { defineTag } from '../modeling/tags/define-tag.ts';
import { createApiKey } from '../store/api-keys.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { graphqlClient } from './support/graphql-client.ts';

const member = defineModel({
  name: 'member',
  description: 'Library members, one row per member.',
  owner: 'library',
  table: 'library.members',
  primaryKey: 'member_id',
  defaultTimeDimension: 'joined_at',
  dimensions: {
    member_id: { type: 'string', description: 'Member card number.', sensitivity: 'personal' },
    city: { type: 'string', description: 'Branch city.' },
    joined_at: { type: 'time', description: 'When the member joined.' },
  },
  measures: { members: { aggregation: 'count', description: 'Members who joined in the period.' } },
  joins: { loan: { model: 'loan', cardinality: 'one_to_many', on: { member_id: 'member_id' } } },
});

const loan = defineModel({
  name: 'loan',
  description: 'Book loans, one row per loan.',
  owner: 'library',
  table: 'library.loans',
  primaryKey: 'loan_id',
  defaultTimeDimension: 'borrowed_at',
  dimensions: {
    loan_id: { type: 'string', description: 'Loan identifier.' },
    borrowed_at: { type: 'time', description: 'When the book was borrowed.' },
  },
  measures: {
    loans: { aggregation: 'count', description: 'Loans in the period.' },
    fees: { aggregation: 'sum', sql: 'fee', description: 'Late fees charged.' },
    borrowers: { aggregation: 'count_distinct', sql: 'member_id', description: 'Members with a loan.' },
  },
  joins: { member: { model: 'member', cardinality: 'many_to_one', on: { member_id: 'member_id' } } },
});

const bookBorrowed = defineEvent({
  name: 'book_borrowed',
  description: 'A member borrowed a book at the desk or a kiosk.',
  owner: 'library',
  requires: ['customerId'],
  properties: { isbn: { type: 'string', required: true, description: 'The book borrowed.' } },
});

function libraryDomain(): Domain {
  return defineDomain({
    name: 'library',
    catalog: buildCatalog({
      models: [member, loan],
      metrics: [
        defineMetric({ name: 'loans', type: 'SIMPLE', measure: 'loan.loans', owner: 'library', description: 'Loans.' }),
        defineMetric({ name: 'fees', type: 'SIMPLE', measure: 'loan.fees', owner: 'library', description: 'Late fees.' }),
        defineMetric({ name: 'borrowers', type: 'SIMPLE', measure: 'loan.borrowers', owner: 'library', description: 'Borrowers.' }),
        defineMetric({ name: 'fee_per_loan', type: 'RATIO', numerator: 'fees', denominator: 'loans', owner: 'library', description: 'Fees per loan.' }),
      ],
    }),
    subject: 'member',
    tags: [
      defineTag({
        key: 'frequent_borrower',
        kind: 'BOOLEAN',
        description: 'More than one loan in the 30 days up to the as-of date.',
        rule: { aggregate: { measure: 'loan.loans', window: { days: 30 } }, op: 'GT', values: ['1'] },
      }),
    ],
    events: [bookBorrowed],
    channels: ['desk', 'kiosk'],
  });
}

it('refuses a domain whose parts do not fit together, naming every problem', () => {
  const domain = libraryDomain();
  expect(() => defineDomain({ ...domain, subject: 'patron' })).toThrow(DomainDefinitionError);
  expect(() => defineDomain({ ...domain, subject: 'patron', events: [bookBorrowed, bookBorrowed], channels: [] })).toThrow(
    /subject 'patron' is not a model of the catalog; event 'book_borrowed' is declared more than once; name at least one channel/,
  );
  expect(Object.isFrozen(domain) && Object.isFrozen(domain.events) && Object.isFrozen(domain.channels)).toBe(true);
});

await describeEachEngine('a second domain served by the same platform on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let base: string;
  const keys: Record<string, string> = {};
  const { ok, post } = graphqlClient(() => base);

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await sql`CREATE SCHEMA library`.execute(database.db);
    await sql`CREATE TABLE library.members (member_id text PRIMARY KEY, city text NOT NULL, joined_at timestamptz NOT NULL)`.execute(database.db);
    await sql`CREATE TABLE library.loans (loan_id text PRIMARY KEY, member_id text NOT NULL, borrowed_at timestamptz NOT NULL, fee numeric NOT NULL)`.execute(
      database.db,
    );
    await sql`INSERT INTO library.members VALUES
      ('m1', 'north', '2026-01-05T10:00:00Z'), ('m2', 'north', '2026-02-10T10:00:00Z'), ('m3', 'south', '2026-02-20T10:00:00Z')`.execute(database.db);
    await sql`INSERT INTO library.loans VALUES
      ('l1', 'm1', '2026-03-01T09:00:00Z', 1.50), ('l2', 'm1', '2026-03-02T09:00:00Z', 2.00), ('l3', 'm2', '2026-03-05T09:00:00Z', 0),
      ('l4', 'm3', '2026-03-09T09:00:00Z', 4.25), ('l5', 'm1', '2026-03-10T09:00:00Z', 1.25)`.execute(database.db);
    for (const role of ['admin', 'operator', 'app'] as const) keys[role] = await createApiKey(database.db, `${role}-1`, role);
    app = await createApp(database, libraryDomain(), { dev: false, maxBodyBytes: 100_000, anonymousRole: null });
    base = `http://127.0.0.1:${await app.listen(0)}`;
  });
  afterAll(async () => {
    await app?.close();
    await database.dispose();
  });

  it('lists only its own models, metrics and events in the catalog', async () => {
    const { catalog } = await ok(keys.admin as string, '{ catalog { models { name } metrics { name } events { name requires } } }');
    const models = catalog.models.map((m: { name: string }) => m.name);
    expect(models).toEqual(expect.arrayContaining(['member', 'loan']));
    expect(models).not.toContain('customer');
    expect(catalog.metrics.map((m: { name: string }) => m.name).sort()).toEqual(['borrowers', 'fee_per_loan', 'fees', 'loans']);
    expect(catalog.events).toEqual([{ name: 'book_borrowed', requires: ['customerId'] }]);
  });

  it('answers metric queries over its own tables, exactly', async () => {
    const { metrics } = await ok(
      keys.admin as string,
      '{ metrics(query: { metrics: ["loans", "fees", "borrowers", "fee_per_loan"], groupBy: [{ dimension: "member.city" }], orderBy: [{ field: "member.city", direction: ASC }] }) { rows } }',
    );
    expect(metrics.rows).toEqual([
      { member__city: 'north', loans: 4, fees: 4.75, borrowers: 2, fee_per_loan: 4.75 / 4 },
      { member__city: 'south', loans: 1, fees: 4.25, borrowers: 1, fee_per_loan: 4.25 },
    ]);
    const byDay = await ok(
      keys.admin as string,
      '{ metrics(query: { metrics: ["loans"], groupBy: [{ dimension: "metric_time", grain: DAY }], timeRange: { from: "2026-03-01", to: "2026-03-03" } }) { rows } }',
    );
    expect(byDay.metrics.rows.map((r: { loans: number }) => r.loans)).toEqual([1, 1]);
    const wealth = await post(keys.admin as string, '{ metrics(query: { metrics: ["purchase_amount"] }) { rows } }');
    expect(wealth.errors?.[0]?.extensions?.code).toBe('UNKNOWN_MEMBER');
  });

  it('materializes its tags about its own subject and slices metrics by them', async () => {
    const { materializeTags } = await ok(keys.operator as string, 'mutation { materializeTags(asOf: "2026-03-10") { status customers } }');
    expect(materializeTags).toEqual({ status: 'PUBLISHED', customers: 3 });
    const { metrics } = await ok(
      keys.admin as string,
      '{ metrics(query: { metrics: ["loans"], groupBy: [{ dimension: "member.tag.frequent_borrower" }], orderBy: [{ field: "member.tag.frequent_borrower", direction: ASC }] }) { rows } }',
    );
    // m1 borrowed three times in the 30 days up to 2026-03-10, m2 and m3 once each.
    expect(metrics.rows).toEqual([
      { member__tag__frequent_borrower: false, loans: 2 },
      { member__tag__frequent_borrower: true, loans: 3 },
    ]);
  });

  it("collects its own events on its own channels and refuses the wealth domain's", async () => {
    const occurredAt = new Date(Date.now() - 60_000).toISOString();
    const send = async (events: unknown[]) => {
      const response = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.app}` },
        body: JSON.stringify(events),
      });
      return { status: response.status, body: (await response.json()) as { rejected: { index: number; code: string }[] } };
    };
    const result = await send([
      { eventId: 'lib-1', name: 'book_borrowed', customerId: 'm1', occurredAt, channel: 'kiosk', properties: { isbn: '978-0' } },
      { eventId: 'lib-2', name: 'app_open', customerId: 'm1', occurredAt, channel: 'desk' },
      { eventId: 'lib-3', name: 'book_borrowed', customerId: 'm2', occurredAt, channel: 'app', properties: { isbn: '978-1' } },
    ]);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ accepted: 1, duplicates: 0, quarantined: 0 });
    expect(result.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, 'UNKNOWN_EVENT'],
      [2, 'INVALID_FIELD'],
    ]);
  });
});
