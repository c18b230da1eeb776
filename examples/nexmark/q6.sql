-- Average selling price by seller (the form RisingWave runs: the winning bid of each
-- auction, then the average of each seller's last ten).
CREATE MATERIALIZED VIEW nexmark_q6 AS
SELECT Q.seller, AVG(Q.final) OVER (PARTITION BY Q.seller ORDER BY Q.date_time
                                    ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS avg
FROM (
    SELECT MAX(B.price) AS final, A.seller, B.date_time
    FROM auction AS A, bid AS B
    WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
    GROUP BY A.id, A.seller
) AS Q;
