WITH "n0" AS (
  WITH anchors AS MATERIALIZED (
    SELECT CAST(date_trunc('month', ("n0_b0"."c0" AT TIME ZONE 'Asia/Shanghai')) AS date) AS "g0", "n0_b0"."c2" AS e, "n0_b0"."c0" AS t
    FROM (
      SELECT "n0_b0"."c2" AS "c2", MIN("n0_b0"."c0") AS "c0"
      FROM (
        SELECT occurred_at AS "c0", event_name AS "c1", customer_id AS "c2"
        FROM "wealth"."app_events") AS "n0_b0"
      WHERE ("n0_b0"."c1" = $1)
      GROUP BY "n0_b0"."c2") AS "n0_b0")
  SELECT "g0", COUNT("h"."e") FILTER (
    WHERE NOT h.hit) AS "l0", COUNT("h"."e") FILTER (
    WHERE h.hit) AS "l1"
  FROM (
    SELECT "b"."g0" AS "g0", b.e AS e, FALSE AS hit
    FROM anchors AS b
    UNION ALL
    SELECT "b"."g0" AS "g0", b.e AS e, TRUE AS hit
    FROM anchors AS b
    WHERE EXISTS (
      SELECT 1
      FROM (
        SELECT "n0_c0"."c2" AS e, "n0_c0"."c0" AS t
        FROM (
          SELECT occurred_at AS "c0", event_name AS "c1", customer_id AS "c2", event_id AS "c3"
          FROM "wealth"."app_events") AS "n0_c0"
        WHERE ("n0_c0"."c1" = $2)) AS c
      WHERE c.e = b.e AND c.t > b.t AND c.t <= b.t + '1 day'::interval)) AS h
  GROUP BY 1)
SELECT "combined"."g0" AS "metric_time__month", (CAST("combined"."l1" AS numeric) / NULLIF("combined"."l0", 0)) AS "first_purchase_success_rate"
FROM "n0" AS combined
ORDER BY "metric_time__month"
LIMIT $3 OFFSET $4
-- parameters: ["purchase_submit","purchase_success",1001,0]
