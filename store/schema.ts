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

/** Every table Strata reads or writes, by `schema.table`. */
export interface DatabaseSchema {
  'wealth.customers': CustomersTable;
  'wealth.products': ProductsTable;
  'wealth.transactions': TransactionsTable;
  'wealth.holdings_daily': HoldingsDailyTable;
  'wealth.app_events': AppEventsTable;
  'strata.definitions': DefinitionsTable;
  'strata.audit_log': AuditLogTable;
}
