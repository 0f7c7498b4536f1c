import { sql, type Kysely } from 'kysely';

/** A uniform number in [0, 1) from a customer id and a salt, the same on every engine (md5). */
const uniform = (salt: string) => sql`(CAST(CAST(CAST('x' || substr(md5(customer_id || ${salt}), 1, 8) AS bit(32)) AS bigint) AS float8) / 4294967296.0)`;

/** The planted group: branch customers at risk level C5. */
export const PLANTED = { channel: 'branch', risk: 'C5' } as const;

/** The goal of the planted structure: KYC completed, which the plant sets. */
export const PLANTED_GOAL = { dimension: 'customer.kyc_completed', op: 'EQ', values: ['true'] } as const;

/**
 * Plants a known structure in the demo warehouse: about 30 % of customers come from the
 * branch, about 30 % are C5 (independently, by hashes of the id), and the goal (KYC
 * completed) holds for about 30 % of branch-and-C5 customers against 10 % of everyone else
 * (3x the base rate). Four customers get the gender `x`, a value under the privacy threshold.
 */
export async function plantInsightStructure(db: Kysely<any>): Promise<void> {
  const a = uniform(':a');
  const b = uniform(':b');
  const c = uniform(':c');
  await sql`UPDATE wealth.customers SET
    channel = CASE WHEN ${a} < 0.3 THEN 'branch' ELSE (ARRAY['app', 'alipay_miniprogram', 'wechat_miniprogram', 'web'])[1 + floor((${a} - 0.3) / 0.7 * 4)::int] END,
    risk_level = CASE WHEN ${b} < 0.3 THEN 'C5' ELSE (ARRAY['C1', 'C2', 'C3', 'C4'])[1 + floor((${b} - 0.3) / 0.7 * 4)::int] END,
    kyc_completed_at = CASE WHEN ${c} < (CASE WHEN ${a} < 0.3 AND ${b} < 0.3 THEN 0.3 ELSE 0.1 END) THEN registered_at + interval '1 day' END`.execute(db);
  await sql`UPDATE wealth.customers SET gender = 'x' WHERE customer_id IN (SELECT customer_id FROM wealth.customers ORDER BY customer_id LIMIT 4)`.execute(db);
}
