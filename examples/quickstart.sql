-- A first look at sqlstream: a table, two materialized views kept current as rows change.
CREATE TABLE orders (id bigint PRIMARY KEY, customer varchar, amount numeric(10,2), placed_at timestamp);
CREATE TABLE customers (name varchar PRIMARY KEY, city varchar);

INSERT INTO customers VALUES ('ada', 'London'), ('grace', 'New York'), ('linus', 'Helsinki');
INSERT INTO orders VALUES
  (1, 'ada', 12.50, '2026-01-01 10:00'), (2, 'grace', 99.00, '2026-01-01 10:05'),
  (3, 'ada', 7.25, '2026-01-01 11:00'), (4, 'linus', 30.00, '2026-01-01 11:30');

-- Built from the existing rows, then maintained incrementally.
CREATE MATERIALIZED VIEW revenue_by_city AS
  SELECT c.city, count(*) AS orders, sum(o.amount) AS revenue
  FROM orders o JOIN customers c ON o.customer = c.name
  GROUP BY c.city;

CREATE MATERIALIZED VIEW top_orders AS
  SELECT id, customer, amount FROM orders ORDER BY amount DESC LIMIT 2;

SELECT * FROM revenue_by_city ORDER BY city;

-- Change the data: the views follow after the next checkpoint (FLUSH waits for it).
INSERT INTO orders VALUES (5, 'grace', 150.00, '2026-01-01 12:00');
DELETE FROM orders WHERE id = 2;
UPDATE customers SET city = 'Paris' WHERE name = 'ada';
FLUSH;

SELECT * FROM revenue_by_city ORDER BY city;
SELECT * FROM top_orders ORDER BY amount DESC;
EXPLAIN CREATE MATERIALIZED VIEW revenue_by_city2 AS
  SELECT c.city, count(*) FROM orders o JOIN customers c ON o.customer = c.name GROUP BY c.city;
