WITH "n0" AS (
  SELECT CAST($1 AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c4") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", customer_id AS "c1", txn_type AS "c2", status AS "c3", amount AS "c4"
    FROM "wealth"."transactions") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", risk_level AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" >= (CAST($2 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" < (CAST($3 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND (("n0_0"."c2" = $4) AND ("n0_0"."c3" = $5))
  GROUP BY 1, 2
  UNION ALL
  SELECT CAST($6 AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c4") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", customer_id AS "c1", txn_type AS "c2", status AS "c3", amount AS "c4"
    FROM "wealth"."transactions") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", risk_level AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" >= (CAST($7 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" < (CAST($8 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND (("n0_0"."c2" = $9) AND ("n0_0"."c3" = $10))
  GROUP BY 1, 2
  UNION ALL
  SELECT CAST($11 AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c4") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", customer_id AS "c1", txn_type AS "c2", status AS "c3", amount AS "c4"
    FROM "wealth"."transactions") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", risk_level AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" >= (CAST($12 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" < (CAST($13 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND (("n0_0"."c2" = $14) AND ("n0_0"."c3" = $15))
  GROUP BY 1, 2
  UNION ALL
  SELECT CAST($16 AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c4") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", customer_id AS "c1", txn_type AS "c2", status AS "c3", amount AS "c4"
    FROM "wealth"."transactions") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", risk_level AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" >= (CAST($17 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" < (CAST($18 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND (("n0_0"."c2" = $19) AND ("n0_0"."c3" = $20))
  GROUP BY 1, 2
  UNION ALL
  SELECT CAST($21 AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c4") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", customer_id AS "c1", txn_type AS "c2", status AS "c3", amount AS "c4"
    FROM "wealth"."transactions") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", risk_level AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" >= (CAST($22 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" < (CAST($23 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND (("n0_0"."c2" = $24) AND ("n0_0"."c3" = $25))
  GROUP BY 1, 2
  UNION ALL
  SELECT CAST($26 AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c4") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", customer_id AS "c1", txn_type AS "c2", status AS "c3", amount AS "c4"
    FROM "wealth"."transactions") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", risk_level AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" >= (CAST($27 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" < (CAST($28 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND (("n0_0"."c2" = $29) AND ("n0_0"."c3" = $30))
  GROUP BY 1, 2)
SELECT "combined"."g0" AS "metric_time__month", "combined"."g1" AS "customer__risk_level", "combined"."l0" AS "purchase_amount"
FROM "n0" AS combined
ORDER BY "metric_time__month", "customer__risk_level"
LIMIT $31 OFFSET $32
-- parameters: ["2026-01-01","2026-01-01","2026-02-01","purchase","succeeded","2026-02-01","2026-02-01","2026-03-01","purchase","succeeded","2026-03-01","2026-03-01","2026-04-01","purchase","succeeded","2026-04-01","2026-04-01","2026-05-01","purchase","succeeded","2026-05-01","2026-05-01","2026-06-01","purchase","succeeded","2026-06-01","2026-06-01","2026-07-01","purchase","succeeded",1001,0]
