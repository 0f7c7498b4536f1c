import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kind, parse } from 'graphql';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A documented GraphQL document, where it is documented, and the variables it needs. */
export interface DocumentedOperation {
  readonly source: string;
  readonly query: string;
  readonly operationName?: string;
  readonly variables?: Record<string, unknown>;
}

/**
 * The operations of API.md (the GraphQL contract, kept outside this repository) that the
 * schema serves today, in its order and words; the curation block's `rule: { ... }`
 * placeholder is filled with a rule.
 */
const API_MD: readonly string[] = [
  `query {
  catalog {
    models { name description primaryKey dimensions { name type description } measures { name aggregation description } }
    metrics { name type description owner status timeDimension dimensions
              lineage { models measures tables } }
    tags { key kind description status version owner valueType values }
    events { name description properties { name type required } }
  }
}`,
  `query {
  metrics(query: {
    metrics: ["purchase_amount", "purchase_conversion_rate"]
    groupBy: [{ dimension: "customer.risk_level" }, { dimension: "metric_time", grain: MONTH }]
    where: { and: [
      { dimension: "customer.channel", op: IN, values: ["app", "alipay_miniprogram"] }
      { not: { dimension: "customer.age_band", op: EQ, values: ["55+"] } }
    ] }
    timeRange: { from: "2026-01-01", to: "2026-07-01" }
    orderBy: [{ field: "metric_time", direction: ASC }]
    limit: 1000
    offset: 0
  }) {
    columns { name kind type }
    rows
    sql
  }
}`,
  `query {
  customer(id: "c000042") {
    id
    tags { key value }
    tag(key: "aum_tier")
    audiences
  }
  customers(ids: ["c000042", "c000043"]) { id tags { key value } }
}`,
  `mutation { createTag(input: {
  key: "young_fund_buyer", kind: BOOLEAN, description: "...", category: "behaviour",
  rule: { and: [ { dimension: "customer.age_band", op: IN, values: ["18-24", "25-34"] },
                 { tag: "fund_buyer_30d", op: EQ, values: ["true"] } ] }
}) { key version status } }`,
  `mutation { updateTag(key: "young_fund_buyer", expectedVersion: 1, input: { description: "..." }) { key version status } }`,
  `mutation { submitTag(key: "young_fund_buyer", expectedVersion: 2) { status } }`,
  `mutation { approveTag(key: "young_fund_buyer", expectedVersion: 2) { status } }`,
  `mutation { rejectTag(key: "young_fund_buyer", expectedVersion: 2, reason: "...") { status } }`,
  `mutation { deprecateTag(key: "young_fund_buyer", reason: "...") { status } }`,
  `query    { tagPreview(rule: { dimension: "customer.age_band", op: IN, values: ["18-24", "25-34"] }) { customers coverage values { value customers } sql } }`,
  `query    { tagHistory(key: "young_fund_buyer") { version status actor action at diff } }`,
  `mutation { createAudience(input: { key: "hnw_dormant", rule: { and: [ { tag: "aum_tier", op: IN, values: ["hnw", "uhnw"] }, { tag: "dormant_90d", op: EQ, values: ["true"] } ] } }) { key size } }`,
  `query { audience(key: "hnw_dormant") { key size rule members(first: 100, after: null) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`,
  `query { audienceInsight(audience: "hnw_dormant", reference: ALL_CUSTOMERS, tags: ["risk_level", "preferred_product_type"]) {
  tag value audienceShare referenceShare tgi } }`,
  `query { audienceComparison(target: { audience: "hnw_dormant" }, reference: { all: true },
                           features: ["customer.channel", "customer.tag.aum_tier"]) {
  features { feature cramersV pValue qValue }
  values { feature value targetCustomers targetShare referenceCustomers referenceShare tgi lift pValue qValue suppressed } } }`,
  `query { attributionTree(input: { population: { all: true }, goal: { tag: "fund_buyer_30d", op: EQ, values: ["true"] }, features: ["customer.channel", "customer.tag.aum_tier"],
                                 maxDepth: 3, minNodeCustomers: 200 }) {
  nodes { id parentId rule customers conversions rate lift pValue } } }`,
  `mutation { createLookalikeAudience(input: { key: "lal_fund", seed: "fund_buyers", size: 5000 }) {
  key size quality { auc precisionAtK liftTopDecile holdoutCustomers } } }`,
  `mutation { trackEvents(events: [{ eventId: "e-1", name: "placement_click", customerId: "c000042",
  occurredAt: "2026-06-01T08:00:00Z", channel: "app", placementId: "home_banner", properties: {} }]) {
  accepted duplicates rejected { index code message } } }`,
  `mutation { decide(customerId: "c000042", placements: ["home_banner", "wealth_mall_top"], context: { channel: "app" }) {
  placement decisionId content { key payload } strategy experiment variant fallback reason } }`,
  `query { placements { key channel page fallback { key } fatigue { maxImpressions windowDays scope } tracking { impressionEvent clickEvent } } }`,
  `query { experiments { key placement status seed hashVersion coverage variants { key weight content { key } } goal { metric event windowDays } } }`,
  `query { experimentResults(key: "home_banner_copy") {
  variants { key exposures conversions rate absoluteLift relativeLift ciLow ciHigh pValue }
  srm { chiSquare pValue flagged } } }`,
  `query { goals { key metric target period { from to } actual progress parent } }`,
  `query { funnel(input: { steps: [{ event: "app_open" }, { event: "product_view" }, { event: "purchase_submit" }, { event: "purchase_success" }],
                        windowHours: 168, timeRange: { from: "2026-09-01", to: "2026-10-01" }, groupBy: [{ dimension: "customer.channel" }] }) {
  groups { dimensions steps { index event customers conversionFromPrevious conversionFromFirst } } } }`,
  `query { explainMetricChange(input: { metric: "purchase_amount", base: { from: "2026-08-01", to: "2026-09-01" },
                                     current: { from: "2026-09-01", to: "2026-10-01" },
                                     dimensions: ["customer.channel", "customer.risk_level", "product.product_type"] }) {
  base current change
  dimensions { dimension surprise }
  contributions { dimension value base current change share }
  explanations { members { dimension value } explanatoryPower surprise }
  mixRate { dimension value mixEffect rateEffect } } }`,
];

/** Variables for the operations of codegen/operations that declare required ones, by operation name. */
const CODEGEN_VARIABLES: Readonly<Record<string, Record<string, unknown>>> = {
  Audience: { key: 'hnw_dormant' },
  AudienceMembers: { key: 'hnw_dormant', first: 100 },
  AudienceInsight: { audience: 'hnw_dormant', tags: ['risk_level'], reference: 'ALL_CUSTOMERS' },
  CreateAudience: { input: { key: 'codegen_hnw', rule: { tag: 'aum_tier', op: 'IN', values: ['hnw', 'uhnw'] } } },
  TrackEvents: {
    events: [
      {
        eventId: 'codegen-1',
        name: 'placement_click',
        customerId: 'c000042',
        occurredAt: '2026-06-01T08:00:00Z',
        channel: 'app',
        placementId: 'home_banner',
        properties: {},
      },
    ],
  },
  Metrics: { query: { metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.risk_level' }] } },
  Customer: { id: 'c000042' },
  Customers: { ids: ['c000042', 'c000043'] },
  CustomerTag: { id: 'c000042', key: 'aum_tier' },
  AudienceComparison: { target: { audience: 'hnw_dormant' }, reference: { all: true }, features: ['customer.channel', 'customer.tag.aum_tier'] },
  AttributionTree: {
    input: { population: { all: true }, goal: { tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] }, features: ['customer.channel'], maxDepth: 2 },
  },
  CreateLookalikeAudience: { input: { key: 'codegen_lal', seed: 'typed_client_mass', size: 50 } },
  TagPreview: { rule: { dimension: 'customer.age_band', op: 'IN', values: ['18-24'] } },
  Decide: { customerId: 'c000042', placements: ['home_banner', 'wealth_mall_top'], channel: 'app' },
};

/** Each named operation of each codegen/operations document, sent as the typed client sends it. */
function codegenOperations(): DocumentedOperation[] {
  return readdirSync(`${ROOT}codegen/operations`)
    .filter((name) => name.endsWith('.graphql'))
    .flatMap((name) => {
      const query = readFileSync(`${ROOT}codegen/operations/${name}`, 'utf8');
      return parse(query).definitions.flatMap((definition) => {
        if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.name) return [];
        const operationName = definition.name.value;
        const variables = CODEGEN_VARIABLES[operationName];
        return [{ source: `codegen/operations/${name} ${operationName}`, query, operationName, ...(variables ? { variables } : {}) }];
      });
    });
}

/** The `graphql` blocks of README.md. */
function readmeBlocks(): string[] {
  const text = readFileSync(`${ROOT}README.md`, 'utf8');
  return [...text.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

/**
 * Every documented operation: codegen/operations (the typed client's documents), README.md's
 * examples and API.md's contract, plus the largest pages the API documents (1,000 members,
 * 1,000 ids written out in the document).
 */
export function documentedOperations(): DocumentedOperation[] {
  const thousandIds = Array.from({ length: 1000 }, (_, i) => JSON.stringify(`c${String(i + 1).padStart(6, '0')}`)).join(', ');
  return [
    ...codegenOperations(),
    ...readmeBlocks().map((query, i) => ({ source: `README.md graphql block ${i + 1}`, query })),
    ...API_MD.map((query, i) => ({ source: `API.md operation ${i + 1}`, query })),
    {
      source: 'largest members page',
      query:
        'query { audience(key: "hnw_dormant") { key size rule members(first: 1000) { edges { node { id } cursor } pageInfo { hasNextPage endCursor } } } }',
    },
    { source: 'largest customers(ids) literal', query: `query { customers(ids: [${thousandIds}]) { id tags { key value } audiences } }` },
  ];
}
