WITH "n0" AS (
  WITH rows AS MATERIALIZED (
    SELECT CAST(date_trunc('day', ("n0_0"."c0" AT TIME ZONE 'Asia/Shanghai')) AS date) AS d, "n0_0"."c3" AS value
    FROM (
      SELECT occurred_at AS "c0", txn_type AS "c1", status AS "c2", amount AS "c3"
      FROM "wealth"."transactions") AS "n0_0"
    WHERE "n0_0"."c0" < (CAST($1 AS timestamp) AT TIME ZONE 'Asia/Shanghai') AND "n0_0"."c0" >= (CAST($2 AS timestamp) AT TIME ZONE 'Asia/Shanghai') - '30 day'::interval AND (("n0_0"."c1" = $3) AND ("n0_0"."c2" = $4))), spine AS MATERIALIZED (
    SELECT CAST(day AS date) AS day
    FROM generate_series(CAST($5 AS date), (CAST($6 AS date) - 1), interval '1 day') AS day), daily AS (
    SELECT s.day, SUM("r"."value") AS v
    FROM spine AS s
    JOIN rows AS r ON r.d <= s.day AND r.d > CAST(s.day - '30 day'::interval AS date)
    GROUP BY 1)
  SELECT CAST(date_trunc('week', CAST("daily"."day" AS timestamp)) AS date) AS "g0", (array_agg(daily.v
      ORDER BY daily.day))[1] AS "l0"
  FROM daily
  GROUP BY 1)
SELECT "combined"."g0" AS "metric_time__week", "combined"."l0" AS "purchase_amount_30d"
FROM "n0" AS combined
ORDER BY "metric_time__week"
LIMIT $7 OFFSET $8
-- parameters: ["2026-04-06","2026-02-23","purchase","succeeded","2026-02-23","2026-04-06",1001,0]
