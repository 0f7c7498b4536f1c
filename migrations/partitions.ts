import { sql, type Kysely, type Transaction } from 'kysely';

/**
 * A fact table partitioned by month (declarative range partitioning on one column), with a
 * default partition that catches rows outside every monthly one.
 */
export interface MonthlyPartitioning {
  /** `schema.table` of the partitioned table. */
  readonly table: string;
  /** The partition key column. */
  readonly column: string;
  /** `timestamptz` months are cut in `timeZone`; `date` months are calendar months. */
  readonly type: 'timestamptz' | 'date';
  /** For `timestamptz`: the time zone whose month boundaries bound the partitions (the reporting time zone). */
  readonly timeZone?: string;
}

/** The bundled warehouse's partitioned facts: events by their time (months in the reporting time zone), holdings by day. */
export const WEALTH_PARTITIONED_FACTS: readonly MonthlyPartitioning[] = [
  { table: 'wealth.app_events', column: 'occurred_at', type: 'timestamptz', timeZone: 'Asia/Shanghai' },
  { table: 'wealth.holdings_daily', column: 'as_of', type: 'date' },
];

/** How many months after the current one get their partitions ahead of time. */
export const MONTHS_AHEAD = 3;

type Db = Kysely<any> | Transaction<any>;

const MONTH = /^(\d{4})-(\d{2})$/;

/** `YYYY-MM` of a date's month, and the months between two of them (inclusive). */
export function monthOf(date: Date | string): string {
  const text = typeof date === 'string' ? date : date.toISOString();
  return text.slice(0, 7);
}

export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let [year, month] = parseMonth(from);
  const [lastYear, lastMonth] = parseMonth(to);
  while (year < lastYear || (year === lastYear && month <= lastMonth)) {
    months.push(`${year}-${String(month).padStart(2, '0')}`);
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
  }
  return months;
}

export function addMonths(month: string, count: number): string {
  const [year, m] = parseMonth(month);
  const index = year * 12 + (m - 1) + count;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function parseMonth(month: string): [number, number] {
  const match = MONTH.exec(month);
  if (!match) throw new Error(`'${month}' is not a YYYY-MM month`);
  return [Number(match[1]), Number(match[2])];
}

const partitionName = (parent: string, month: string) => `${parent}_p${month.replace('-', '_')}`;

/** The partition bound of a month's first instant: a date, or midnight in the time zone. */
function bound(spec: MonthlyPartitioning, month: string) {
  const day = `${month}-01`;
  return spec.type === 'date' ? sql`${sql.lit(day)}::date` : sql`(${sql.lit(day)}::timestamp AT TIME ZONE ${sql.lit(spec.timeZone ?? 'UTC')})`;
}

/** Whether `spec.table` exists and is partitioned (a migrated warehouse); false before migration 0016. */
export async function isPartitioned(db: Db, table: string): Promise<boolean> {
  const { rows } = await sql<{
    partitioned: boolean;
  }>`SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p WHERE p.partrelid = to_regclass(${table})) AS partitioned`.execute(db);
  return rows[0]?.partitioned === true;
}

/** The months that already have a partition of `spec.table`. */
async function existingMonths(db: Db, spec: MonthlyPartitioning): Promise<Set<string>> {
  const [schema, parent] = spec.table.split('.') as [string, string];
  const { rows } = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE i.inhparent = to_regclass(${spec.table}) AND n.nspname = ${schema}`.execute(db);
  const prefix = `${parent}_p`;
  return new Set(
    rows
      .map((r) => r.name)
      .filter((n) => n.startsWith(prefix))
      .map((n) => n.slice(prefix.length).replace('_', '-')),
  );
}

/**
 * Creates the monthly partitions of `spec.table` for `months` that have none, idempotently
 * (run at migration, seeding and ingestion time). Rows of such a month already in the
 * default partition move into the new partition in the same transaction, so a partition
 * can always be created late. Returns the months created.
 */
export async function ensureMonthlyPartitions(db: Kysely<any>, spec: MonthlyPartitioning, months: readonly string[]): Promise<string[]> {
  const wanted = [...new Set(months)].sort();
  const existing = await existingMonths(db, spec);
  const missing = wanted.filter((m) => !existing.has(m));
  if (missing.length === 0) return [];
  const inTransaction = (work: (trx: Transaction<any>) => Promise<string[]>) =>
    db.isTransaction ? work(db as Transaction<any>) : db.transaction().execute(work);
  return inTransaction(async (trx) => {
    // One creator at a time per table; a concurrent creator's partitions are seen after the lock.
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`strata.partitions:${spec.table}`}))`.execute(trx);
    const now = await existingMonths(trx, spec);
    const created: string[] = [];
    for (const month of missing) {
      if (now.has(month)) continue;
      await createMonth(trx, spec, month);
      created.push(month);
    }
    return created;
  });
}

async function createMonth(trx: Transaction<any>, spec: MonthlyPartitioning, month: string): Promise<void> {
  const [schema, parent] = spec.table.split('.') as [string, string];
  const name = partitionName(parent, month);
  const target = sql.table(`${schema}.${name}`);
  const from = bound(spec, month);
  const to = bound(spec, addMonths(month, 1));
  const column = sql.ref(spec.column);
  const fallback = sql.table(`${schema}.${parent}_default`);
  // A new range must not overlap rows the default partition holds: such rows move first.
  const { rows } = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM ${fallback} WHERE ${column} >= ${from} AND ${column} < ${to}`.execute(trx);
  if ((rows[0]?.n ?? 0) === 0) {
    await sql`CREATE TABLE ${target} PARTITION OF ${sql.table(spec.table)} FOR VALUES FROM (${from}) TO (${to})`.execute(trx);
    return;
  }
  await sql`CREATE TABLE ${target} (LIKE ${sql.table(spec.table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`.execute(trx);
  await sql`WITH moved AS (DELETE FROM ${fallback} WHERE ${column} >= ${from} AND ${column} < ${to} RETURNING *)
    INSERT INTO ${target} SELECT * FROM moved`.execute(trx);
  await sql`ALTER TABLE ${sql.table(spec.table)} ATTACH PARTITION ${target} FOR VALUES FROM (${from}) TO (${to})`.execute(trx);
}

/**
 * Partitions for every month of the data in `source` (default `spec.table`, its default
 * partition included) and for the current month and `MONTHS_AHEAD` after it.
 */
export async function ensurePartitionsForData(
  db: Kysely<any>,
  spec: MonthlyPartitioning,
  now: Date = new Date(),
  source: string = spec.table,
): Promise<string[]> {
  const { rows } = await sql<{ first: string | null; last: string | null }>`SELECT
      to_char(MIN(${monthStart(spec)}), 'YYYY-MM') AS first, to_char(MAX(${monthStart(spec)}), 'YYYY-MM') AS last
    FROM ${sql.table(source)}`.execute(db);
  const current = monthOf(now);
  const first = rows[0]?.first && rows[0].first < current ? rows[0].first : current;
  const ahead = addMonths(current, MONTHS_AHEAD);
  const last = rows[0]?.last && rows[0].last > ahead ? rows[0].last : ahead;
  return ensureMonthlyPartitions(db, spec, monthsBetween(first, last));
}

/** The month of the partition key, in the partitioning's time zone. */
function monthStart(spec: MonthlyPartitioning) {
  const column = sql.ref(spec.column);
  return spec.type === 'date' ? sql`date_trunc('month', ${column})` : sql`date_trunc('month', ${column} AT TIME ZONE ${sql.lit(spec.timeZone ?? 'UTC')})`;
}
