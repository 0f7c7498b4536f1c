WITH "n0" AS (
  WITH base_events AS (
    SELECT *
    FROM (
      SELECT CAST(date_trunc('month', ("n0_b0"."c0" AT TIME ZONE 'Asia/Shanghai')) AS date) AS "g0", "n0_b0"."c1" AS "g1", "n0_b0"."c3" AS e, "n0_b0"."c0" AS t, "n0_b0"."c3" AS value, ROW_NUMBER() OVER (PARTITION BY "n0_b0"."c3", CAST(date_trunc('month', ("n0_b0"."c0" AT TIME ZONE 'Asia/Shanghai')) AS date)
        ORDER BY "n0_b0"."c0") AS rn
      FROM (
        SELECT occurred_at AS "c0", channel AS "c1", event_name AS "c2", customer_id AS "c3"
        FROM "wealth"."app_events") AS "n0_b0"
      WHERE ("n0_b0"."c2" = $1)) AS ranked
    WHERE rn = 1), conversion_events AS (
    SELECT "n0_c0"."c2" AS e, "n0_c0"."c0" AS t, "n0_c0"."c2" AS value, ROW("n0_c0"."c3") AS row_key
    FROM (
      SELECT occurred_at AS "c0", event_name AS "c1", customer_id AS "c2", event_id AS "c3"
      FROM "wealth"."app_events") AS "n0_c0"
    WHERE ("n0_c0"."c1" = $2)), matched AS (
    SELECT DISTINCT ON (b.e, b.t) "b"."g0" AS "g0", "b"."g1" AS "g1", c.value AS value
    FROM base_events AS b
    JOIN conversion_events AS c ON c.e = b.e AND c.t > b.t + '1 day'::interval AND c.t <= b.t + '7 day'::interval
    ORDER BY b.e, b.t, c.t)
  SELECT "g0", "g1", MAX(o) AS "l0", COALESCE(MAX(c), 0) AS "l1"
  FROM (
    SELECT "g0", "g1", COUNT(DISTINCT "value") AS o, CAST(NULL AS numeric) AS c
    FROM "base_events"
    GROUP BY 1, 2
    UNION ALL
    SELECT "g0", "g1", CAST(NULL AS numeric) AS o, COUNT(DISTINCT "value") AS c
    FROM "matched"
    GROUP BY 1, 2) AS parts
  GROUP BY 1, 2)
SELECT "combined"."g0" AS "metric_time__month", "combined"."g1" AS "app_event__channel", (CAST("combined"."l1" AS numeric) / NULLIF("combined"."l0", 0)) AS "revisit_rate_7d"
FROM "n0" AS combined
ORDER BY "metric_time__month", "app_event__channel"
LIMIT $3 OFFSET $4
-- parameters: ["app_open","app_open",1001,0]
