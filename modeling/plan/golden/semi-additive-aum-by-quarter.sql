WITH "n0" AS (
  SELECT CAST(date_trunc('quarter', CAST("n0_0"."c0" AS timestamp)) AS date) AS "g0", "n0_1"."c1" AS "g1", SUM("n0_0"."c2") AS "l0"
  FROM (
    SELECT as_of AS "c0", product_id AS "c1", market_value AS "c2"
    FROM "wealth"."holdings_daily") AS "n0_0"
  LEFT JOIN (
    SELECT product_id AS "c0", product_type AS "c1"
    FROM "wealth"."products") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  WHERE "n0_0"."c0" = ANY(ARRAY(
      SELECT (
        SELECT "n0_a0"."c0"
        FROM (
          SELECT as_of AS "c0"
          FROM "wealth"."holdings_daily") AS "n0_a0"
        WHERE "n0_a0"."c0" >= CAST("n0_period"."start" AS date) AND "n0_a0"."c0" < CAST("n0_period"."start" + '3 month'::interval AS date) AND "n0_a0"."c0" IS NOT NULL
        ORDER BY "n0_a0"."c0" DESC NULLS FIRST
        LIMIT 1)
      FROM (
        SELECT date_trunc('quarter', CAST(MIN("n0_a0"."c0") AS timestamp)) AS lo, CAST(MAX("n0_a0"."c0") AS timestamp) AS hi
        FROM (
          SELECT as_of AS "c0"
          FROM "wealth"."holdings_daily") AS "n0_a0" ) AS bounds, generate_series(bounds.lo, bounds.hi, '3 month'::interval) AS "n0_period"(start)))
  GROUP BY 1, 2)
SELECT "combined"."g0" AS "metric_time__quarter", "combined"."g1" AS "product__product_type", "combined"."l0" AS "aum"
FROM "n0" AS combined
ORDER BY "metric_time__quarter", "product__product_type"
LIMIT $1 OFFSET $2
-- parameters: [1001,0]
