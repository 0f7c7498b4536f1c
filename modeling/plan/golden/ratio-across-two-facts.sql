WITH "n0" AS (
  SELECT "n0_1"."c1" AS "g0", COUNT("n0_0"."c1") AS "l0"
  FROM (
    SELECT "n0_p0"."c3" AS "c1"
    FROM (
      SELECT occurred_at AS "c0", txn_type AS "c1", status AS "c2", customer_id AS "c3"
      FROM "wealth"."transactions") AS "n0_p0"
    WHERE (("n0_p0"."c1" = $1) AND ("n0_p0"."c2" = $2))
    GROUP BY "n0_p0"."c3") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", channel AS "c1"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  GROUP BY 1), "n1" AS (
  SELECT "n1_1"."c1" AS "g0", COUNT("n1_0"."c1") AS "l1"
  FROM (
    SELECT "n1_p0"."c1" AS "c1"
    FROM (
      SELECT occurred_at AS "c0", customer_id AS "c1"
      FROM "wealth"."app_events") AS "n1_p0"
    GROUP BY "n1_p0"."c1") AS "n1_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", channel AS "c1"
    FROM "wealth"."customers") AS "n1_1" ON "n1_0"."c1" = "n1_1"."c0"
  GROUP BY 1)
SELECT "combined"."g0" AS "customer__channel", (CAST(COALESCE("combined"."l0", 0) AS numeric) / NULLIF(COALESCE("combined"."l1", 0), 0)) AS "purchase_conversion_rate"
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
ORDER BY "customer__channel"
LIMIT $3 OFFSET $4
-- parameters: ["purchase","succeeded",1001,0]
