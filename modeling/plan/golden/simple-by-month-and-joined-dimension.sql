WITH "n0" AS (
  SELECT CAST(date_trunc('month', ("n0_0"."c0" AT TIME ZONE 'Asia/Shanghai')) AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c4") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", customer_id AS "c1", txn_type AS "c2", status AS "c3", amount AS "c4"
    FROM "wealth"."transactions") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", risk_level AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" >= (CAST($1 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" < (CAST($2 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND (("n0_0"."c2" = $3) AND ("n0_0"."c3" = $4))
  GROUP BY 1, 2)
SELECT "combined"."g0" AS "metric_time__month", "combined"."g1" AS "customer__risk_level", "combined"."l0" AS "purchase_amount"
FROM "n0" AS combined
ORDER BY "metric_time__month", "customer__risk_level"
LIMIT $5 OFFSET $6
-- parameters: ["2026-01-01","2026-07-01","purchase","succeeded",1001,0]
