-- Processing-time windows: bids per bidder in ten-second windows of arrival time.
-- It reads bid with its processing-time column, declared as RisingWave declares it
-- (`p_time TIMESTAMPTZ AS PROCTIME()`); create_sources.sql's bid leaves it out so that
-- the queries selecting `*` from bid stay deterministic.
CREATE SOURCE bid_p (
    auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
    date_time TIMESTAMP, extra VARCHAR, p_time TIMESTAMPTZ AS PROCTIME()
) WITH (connector = 'nexmark', nexmark.table.type = 'Bid', nexmark.split.num = '2',
        nexmark.min.event.gap.in.ns = '100000');

CREATE MATERIALIZED VIEW nexmark_q12 AS
SELECT bidder, count(*) AS bid_count, window_start, window_end
FROM TUMBLE(bid_p, p_time, INTERVAL '10' SECOND)
GROUP BY bidder, window_start, window_end;
