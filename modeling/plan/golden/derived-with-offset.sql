WITH "n0" AS (
  SELECT CAST(date_trunc('month', ("n0_0"."c0" AT TIME ZONE 'Asia/Shanghai')) AS date) AS "g0", SUM("n0_0"."c3") AS "l0"
  FROM (
    SELECT occurred_at AS "c0", txn_type AS "c1", status AS "c2", amount AS "c3"
    FROM "wealth"."transactions") AS "n0_0"
  WHERE (("n0_0"."c1" = $1) AND ("n0_0"."c2" = $2))
  GROUP BY 1), "n1" AS (
  SELECT CAST(date_trunc('month', (("n1_0"."c0" AT TIME ZONE 'Asia/Shanghai') + '1 month'::interval)) AS date) AS "g0", SUM("n1_0"."c3") AS "l1"
  FROM (
    SELECT occurred_at AS "c0", txn_type AS "c1", status AS "c2", amount AS "c3"
    FROM "wealth"."transactions") AS "n1_0"
  WHERE (("n1_0"."c1" = $3) AND ("n1_0"."c2" = $4))
  GROUP BY 1)
SELECT "combined"."g0" AS "metric_time__month", (CAST(("combined"."l0" - "combined"."l1") AS numeric) / NULLIF("combined"."l1", 0)) AS "purchase_amount_growth_mom"
FROM (
  SELECT "g0", MAX("l0") AS "l0", MAX("l1") AS "l1"
  FROM (
    SELECT "g0", "l0", (
      SELECT "l1"
      FROM "n1"
      LIMIT 0) AS "l1"
    FROM "n0"
    UNION ALL
    SELECT "g0", (
      SELECT "l0"
      FROM "n0"
      LIMIT 0) AS "l0", "l1"
    FROM "n1") AS stacked
  GROUP BY "g0") AS combined
ORDER BY "metric_time__month"
LIMIT $5 OFFSET $6
-- parameters: ["purchase","succeeded","purchase","succeeded",1001,0]
