import { describe, expect, it } from 'vitest';
import { isObjectType, parse, type OperationDefinitionNode } from 'graphql';
import { schema } from '../resolvers/schema.ts';
import { OPERATION_CLASS_OF } from '../services/authorization.ts';
import { operationFields } from './operation-fields.ts';
import { checkListCaps, LIST_CAPS, listSites } from './list-caps.ts';

function fieldsOf(text: string) {
  const document = parse(text);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  return { operation, fields: operationFields(schema, document, operation) };
}

function check(text: string, variables?: Record<string, unknown>) {
  const { operation, fields } = fieldsOf(text);
  return () => checkListCaps(listSites(fields), operation, variables);
}

describe('the tables of limited fields', () => {
  it('name only fields the schema has', () => {
    const exists = (coordinate: string) => {
      const [typeName, field] = coordinate.split('.') as [string, string];
      const type = schema.getType(typeName);
      return type !== undefined && isObjectType(type) && field in type.getFields();
    };
    expect([...Object.keys(OPERATION_CLASS_OF), ...Object.keys(LIST_CAPS)].filter((c) => !exists(c))).toEqual([]);
  });
});

describe('the fields of an operation', () => {
  it('lists each response field once per path: aliases apart, repeated fragments merged, nested fields by their type', () => {
    const { fields } = fieldsOf(`
      query { a: customer(id: "1") { ...F ...F } b: customer(id: "2") { id } audience(key: "x") { size members { edges { cursor } } } }
      fragment F on Customer { id tags { key } }`);
    expect(fields.map((f) => f.coordinate)).toEqual([
      'Query.customer',
      'Customer.id',
      'Customer.tags',
      'TagValue.key',
      'Query.customer',
      'Customer.id',
      'Query.audience',
      'Audience.size',
      'Audience.members',
      'AudienceMemberConnection.edges',
      'AudienceMemberEdge.cursor',
    ]);
  });
});

describe('list budgets shared by a request', () => {
  it('adds customer ids over customers(ids) lists, variables and customer fields', () => {
    const twoLists = 'query Q($a: [String!]!, $b: [String!]!) { x: customers(ids: $a) { id } y: customers(ids: $b) { id } }';
    expect(check(twoLists, { a: Array(500).fill('c'), b: Array(500).fill('c') })).not.toThrow();
    expect(check(twoLists, { a: Array(500).fill('c'), b: Array(501).fill('c') })).toThrow(/1,001 customer ids .* at most 1,000/);
    expect(check('query Q($id: String!) { customer(id: $id) { id } customers(ids: [$id, "b", "c"]) { id } }', { id: 'a' })).not.toThrow();
    expect(check('query Q($ids: [String!]! = ["a", "b"]) { customers(ids: $ids) { id } }')).not.toThrow();
  });

  it('adds audience member pages, with the default page of 100 when first is absent or null', () => {
    const pages = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: audience(key: "x") { members { edges { cursor } } }`).join(' ')} }`;
    expect(check(pages(10))).not.toThrow();
    expect(check(pages(11))).toThrow(/1,100 audience members/);
    expect(
      check(
        'query Q($n: Int) { a: audience(key: "x") { members(first: $n) { edges { cursor } } } b: audience(key: "x") { members(first: 901) { edges { cursor } } } }',
        { n: null },
      ),
    ).toThrow(/1,001 audience members/);
  });

  it('counts events sent in one request', () => {
    const events =
      'mutation M($a: [TrackEventInput!]!, $b: [TrackEventInput!]!) { x: trackEvents(events: $a) { accepted } y: trackEvents(events: $b) { accepted } }';
    expect(check(events, { a: Array(600).fill({}), b: Array(600).fill({}) })).toThrow(/1,200 events/);
  });
});
