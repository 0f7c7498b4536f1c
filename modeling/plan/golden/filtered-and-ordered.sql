WITH "n0" AS (
  SELECT "n0_1"."c1" AS "g0", NULLIF(CAST(COALESCE(SUM("a0"), 0) AS bigint), 0) AS "l0", NULLIF(CAST(COALESCE(SUM("a1"), 0) AS bigint), 0) AS "l1", COUNT("n0_0"."c1") AS "l2"
  FROM (
    SELECT "n0_p0"."c1" AS "c1", COUNT(*) FILTER (
      WHERE ("n0_p0"."c2" = $1)) AS "a0", COUNT(*) FILTER (
      WHERE ("n0_p0"."c2" = $2)) AS "a1"
    FROM (
      SELECT occurred_at AS "c0", customer_id AS "c1", event_name AS "c2"
      FROM "wealth"."app_events") AS "n0_p0"
    LEFT JOIN (
      SELECT customer_id AS "c0", channel AS "c1", age_band AS "c2"
      FROM "wealth"."customers") AS "n0_p1" ON "n0_p0"."c1" = "n0_p1"."c0"
    WHERE (("n0_p1"."c1" IN ($3, $4)) AND (NOT ("n0_p1"."c2" = $5)))
    GROUP BY "n0_p0"."c1") AS "n0_0"
  LEFT JOIN (
    SELECT customer_id AS "c0", age_band AS "c1", channel AS "c2"
    FROM "wealth"."customers") AS "n0_1" ON "n0_0"."c1" = "n0_1"."c0"
  GROUP BY 1)
SELECT "combined"."g0" AS "customer__age_band", (CAST(COALESCE("combined"."l0", 0) AS numeric) / NULLIF(COALESCE("combined"."l1", 0), 0)) AS "placement_ctr", COALESCE("combined"."l2", 0) AS "active_customers"
FROM "n0" AS combined
ORDER BY "placement_ctr" DESC, "customer__age_band"
LIMIT $6 OFFSET $7
-- parameters: ["placement_click","placement_impression","app","alipay_miniprogram","55+",10,0]
