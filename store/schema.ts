import type { ColumnType, Generated } from 'kysely';

/** `numeric` travels as a string so money never passes through a JavaScript double. */
type Numeric = ColumnType<string, string | number, string | number>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DateOnly = ColumnType<string, string, string>;
type Json = ColumnType<unknown, string, string>;

export interface CustomersTable {
  customer_id: string;
  registered_at: Timestamp;
  channel: string;
  city_tier: number;
  age_band: string;
  gender: string;
  risk_level: string;
  account_class: string;
  kyc_completed_at: Timestamp | null;
}

export interface ProductsTable {
  product_id: string;
  name: string;
  product_type: string;
  risk_rating: string;
  launched_at: DateOnly;
}

export interface TransactionsTable {
  txn_id: string;
  customer_id: string;
  product_id: string;
  txn_type: string;
  amount: Numeric;
  status: string;
  channel: string;
  occurred_at: Timestamp;
}

export interface HoldingsDailyTable {
  customer_id: string;
  product_id: string;
  as_of: DateOnly;
  market_value: Numeric;
}

/** Each customer's risk-assessment history, a slowly changing dimension (migration 0010). */
export interface RiskAssessmentsTable {
  customer_id: string;
  risk_level: string;
  valid_from: DateOnly;
  valid_to: DateOnly | null;
}

/** Daily NAV per product unit (migration 0003). */
export interface ProductNavTable {
  product_id: string;
  as_of: DateOnly;
  nav: Numeric;
}

export interface AppEventsTable {
  event_id: string;
  customer_id: string | null;
  anonymous_id: string | null;
  event_name: string;
  occurred_at: Timestamp;
  channel: string;
  page: string | null;
  placement_id: string | null;
  product_id: string | null;
  properties: ColumnType<unknown, string | undefined, string>;
}

export interface DefinitionsTable {
  kind: string;
  key: string;
  version: number;
  status: string;
  body: Json;
  updated_by: string;
  updated_at: Generated<Date>;
}

/** Goals (目标管理): dates travel as `YYYY-MM-DD` strings (no time zone shift). */
export interface GoalsTable {
  key: string;
  metric: string;
  target: number;
  period_from: string;
  period_to: string;
  parent_key: string | null;
  description: string | null;
  version: number;
  updated_by: string;
  updated_at: Generated<Date>;
}

/** One monitor's evaluation of one period (a firing when `fired`); dates as `YYYY-MM-DD` strings. */
export interface MonitorEvaluationsTable {
  monitor_key: string;
  period_from: string;
  period_to: string;
  evaluated_at: Generated<Date>;
  value: number | null;
  expected: number | null;
  fired: boolean;
  reason: string | null;
  explanation: unknown;
  delivery_status: 'pending' | 'delivered' | 'failed' | null;
  delivery_attempts: Generated<number>;
  next_delivery_at: Date | null;
  last_delivery_error: string | null;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: Generated<Date>;
  actor: string;
  action: string;
  kind: string;
  key: string;
  version: number;
  status: string;
  body: Json;
  diff: ColumnType<unknown, string | undefined, string>;
  reason: string | null;
}

export interface EventQuarantineTable {
  event_id: string;
  event_name: string;
  raw: Json;
  reason: string;
  received_at: Generated<Date>;
}

/** The encrypted copy of one personal property value of an event (migration 0007). */
export interface EventPiiTable {
  event_id: string;
  property: string;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  tag: Uint8Array;
  key_version: number;
}

/** Secrets the server generated for itself, e.g. the pseudonym key when none is configured. */
export interface InstallationSecretsTable {
  name: string;
  secret: Uint8Array;
  created_at: Generated<Date>;
}

export interface TagRunsTable {
  run_id: Generated<number>;
  as_of: DateOnly;
  status: string;
  actor: string;
  started_at: Generated<Date>;
  finished_at: Date | null;
  customers: number | null;
  coverage: ColumnType<unknown, string | null, string | null>;
  error: string | null;
  /** Per tag: the share of customers its value distribution moved from the published snapshot. */
  drift: ColumnType<unknown, string | null, string | null>;
  /** Why the run was held (or forced). */
  message: string | null;
  published_at: Date | null;
  published_by: string | null;
}

export interface CustomerProfilesTable {
  run_id: number;
  customer_id: string;
  tags: ColumnType<Record<string, unknown>, string, string>;
  audiences: string[];
}

/** `strata.current_profiles`: the view of the profile rows of the current snapshot's run (migration 0011). */
export interface CurrentProfilesView {
  readonly customer_id: string;
  readonly tags: Record<string, unknown>;
  readonly audiences: string[];
}

export interface ProfileSnapshotTable {
  id: number;
  run_id: number | null;
  as_of: DateOnly | null;
  published_at: Date | null;
}

export interface ApiKeysTable {
  name: string;
  role: string;
  key_hash: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
  /** A sensitivity class below the role's own; null: the role's. */
  clearance: string | null;
  /** Row-level scope, a rule in API.md's JSON form; null: every customer. */
  scope: Json | null;
  created_by: string | null;
  revoked_by: string | null;
}

/** Every table Strata reads or writes, by `schema.table`. */
export interface PersonalDataReadsTable {
  read_id: Generated<number>;
  read_at: Date;
  actor: string;
  operation: string;
  customer_ids: string[];
}

export interface PlacementImpressionCountsTable {
  customer_id: string;
  placement_id: string;
  content_id: string;
  day: DateOnly;
  impressions: number;
}

export interface DatabaseSchema {
  'wealth.customers': CustomersTable;
  'wealth.products': ProductsTable;
  'wealth.transactions': TransactionsTable;
  'wealth.holdings_daily': HoldingsDailyTable;
  'wealth.app_events': AppEventsTable;
  'wealth.product_nav': ProductNavTable;
  'wealth.risk_assessments': RiskAssessmentsTable;
  'strata.definitions': DefinitionsTable;
  'strata.audit_log': AuditLogTable;
  'strata.goals': GoalsTable;
  'strata.monitor_evaluations': MonitorEvaluationsTable;
  'strata.event_quarantine': EventQuarantineTable;
  'strata.event_pii': EventPiiTable;
  'strata.installation_secrets': InstallationSecretsTable;
  'strata.tag_runs': TagRunsTable;
  'strata.customer_profiles': CustomerProfilesTable;
  'strata.profile_snapshot': ProfileSnapshotTable;
  'strata.current_profiles': CurrentProfilesView;
  'strata.api_keys': ApiKeysTable;
  'strata.personal_data_reads': PersonalDataReadsTable;
  'strata.placement_impression_counts': PlacementImpressionCountsTable;
}
