/** One GraphiQL tab: an example for one group of users, with the role its key needs. */
export interface GraphiqlExample {
  readonly title: string;
  /** The roles whose key runs every operation of the tab. */
  readonly roles: readonly string[];
  /** Values are written in the operations: GraphiQL 3 starts the first tab with an empty variables editor whatever the tab says. */
  readonly query: string;
}

/**
 * The tabs GraphiQL opens with, one per group of users. Each must stay valid against the
 * schema (test/graphiql.test.ts checks it), so a newcomer's first request never fails on
 * the example itself.
 */
export const GRAPHIQL_EXAMPLES: readonly GraphiqlExample[] = [
  {
    title: 'BI developer: metrics',
    roles: ['analyst', 'admin'],
    query: `# BI developers: metrics sliced by dimensions (an analyst key).
# Paste a key in the Headers tab below; the demo printed one when it started.
query MonthlyPurchases {
  metrics(query: {
    metrics: ["purchase_amount", "purchasers"]
    groupBy: [{ dimension: "metric_time", grain: MONTH }, { dimension: "customer.risk_level" }]
    timeRange: { from: "2025-01-01", to: "2030-01-01" }
    orderBy: [{ field: "metric_time", direction: ASC }]
    limit: 100
  }) {
    columns { name kind type }
    rows
  }
}

query Catalog {
  catalog {
    metrics { name type description owner dimensions }
    tags { key kind description values }
  }
}
`,
  },
  {
    title: 'App team: customers',
    roles: ['app', 'operator', 'admin'],
    query: `# App teams: personalization fields per customer (an app key).
query Customer {
  customer(id: "c000042") {
    id
    tags { key value }
    tag(key: "aum_tier")
    audiences
  }
}

query Customers {
  customers(ids: ["c000042", "c000043"]) { id tags { key value } }
}
`,
  },
  {
    title: 'Steward: tags',
    roles: ['steward', 'admin'],
    query: `# Data stewards: preview a rule on the data, then draft a tag (a steward key).
query PreviewRule {
  tagPreview(rule: { and: [
    { dimension: "customer.age_band", op: IN, values: ["18-24", "25-34"] }
    { tag: "fund_buyer_30d", op: EQ, values: ["true"] }
  ] }) {
    customers
    coverage
  }
}

mutation DraftTag {
  createTag(input: {
    key: "young_fund_buyer", kind: BOOLEAN, category: "behaviour"
    description: "Customers aged 18-34 who bought a fund in the last 30 days."
    rule: { and: [
      { dimension: "customer.age_band", op: IN, values: ["18-24", "25-34"] }
      { tag: "fund_buyer_30d", op: EQ, values: ["true"] }
    ] }
  }) { key version status }
}
`,
  },
  {
    title: 'Operator: audiences',
    roles: ['operator', 'admin'],
    query: `# Operators: create an audience from tags and page through its members (an operator key).
mutation CreateAudience {
  createAudience(input: {
    key: "hnw_dormant"
    rule: { and: [
      { tag: "aum_tier", op: IN, values: ["hnw", "uhnw"] }
      { tag: "dormant_90d", op: EQ, values: ["true"] }
    ] }
  }) { key size }
}

query Audience {
  audience(key: "hnw_dormant") {
    key
    size
    members(first: 20) { edges { node { id } } pageInfo { hasNextPage endCursor } }
  }
}
`,
  },
  {
    title: 'Admin: keys',
    roles: ['admin'],
    query: `# Admins: who am I, create and revoke API keys, and audit personal-data reads (an admin key).
query Viewer {
  viewer { name role clearance via }
}

mutation CreateKey {
  createApiKey(input: { name: "bi-dashboard", role: "analyst" }) { name role clearance token }
}

mutation RevokeKey {
  revokeApiKey(name: "bi-dashboard") { name revoked revokedAt }
}

query PersonalDataReads {
  personalDataReads(first: 20) { at actor operation customerIds }
}
`,
  },
];

/** What the headers editor holds at first: where the key goes. */
export const GRAPHIQL_DEFAULT_HEADERS = '{\n  "Authorization": "Bearer <paste a key>"\n}';
