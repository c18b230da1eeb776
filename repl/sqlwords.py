"""The words the shell completes that do not come from the catalog: keywords and
built-in functions (name, kind, arguments, what it does; shown by `\\df`)."""

from __future__ import annotations

KEYWORDS: tuple[str, ...] = (
    "ADD", "ALL", "ALTER", "AND", "ANY", "AS", "ASC", "BEGIN", "BETWEEN", "BIGINT", "BOOLEAN",
    "BY", "CASCADE", "CASE", "CAST", "COLUMN", "COMMIT", "CREATE", "CROSS", "DATE", "DECIMAL",
    "DEFAULT", "DELETE", "DESC", "DESCRIBE", "DISTINCT", "DO", "DOUBLE PRECISION", "DROP",
    "ELSE", "EMIT ON WINDOW CLOSE", "END", "EXCEPT", "EXISTS", "EXPLAIN", "FALSE", "FETCH",
    "FILTER", "FIRST", "FLUSH", "FOLLOWING", "FOR", "FROM", "FULL", "GROUP BY", "HAVING",
    "IF", "IF EXISTS", "IF NOT EXISTS", "ILIKE", "IN", "INNER", "INSERT INTO", "INT",
    "INTEGER", "INTERSECT", "INTERVAL", "INTO", "IS", "JOIN", "KEY", "LAST", "LEFT", "LIKE",
    "LIMIT", "MATERIALIZED VIEW", "NOT", "NOTHING", "NULL", "NULLS", "NUMERIC", "OFFSET", "ON",
    "ON CONFLICT", "OR", "ORDER BY", "OUTER", "OVER", "PARTITION BY", "PRECEDING",
    "PRIMARY KEY", "REAL", "RIGHT", "ROLLBACK", "ROWS", "SELECT", "SET", "SHOW", "SMALLINT",
    "SOURCE", "SOURCES", "TABLE", "TABLES", "TEXT", "THEN", "TIME", "TIMESTAMP",
    "TIMESTAMPTZ", "TRUE", "UNBOUNDED", "UNION", "UNION ALL", "UPDATE", "USING", "VALUES",
    "VARCHAR", "VIEW", "WATERMARK FOR", "WHEN", "WHERE", "WINDOW", "WITH",
)

# name, kind (normal | aggregate | window | table), arguments, description
FUNCTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("abs", "normal", "x", "absolute value"),
    ("avg", "aggregate", "x", "average of the non-null values"),
    ("bool_and", "aggregate", "b", "true if all values are true"),
    ("bool_or", "aggregate", "b", "true if any value is true"),
    ("ceil", "normal", "x", "smallest integer not less than x"),
    ("coalesce", "normal", "a, b, ...", "first non-null argument"),
    ("concat", "normal", "a, b, ...", "concatenation, ignoring nulls"),
    ("count", "aggregate", "* | x", "number of rows / non-null values"),
    ("date_trunc", "normal", "unit, ts", "timestamp truncated to a unit"),
    ("dense_rank", "window", "", "rank without gaps"),
    ("extract", "normal", "field FROM ts", "a field of a date, time or interval"),
    ("floor", "normal", "x", "largest integer not greater than x"),
    ("generate_series", "table", "start, stop [, step]", "a series of values"),
    ("hop", "table", "rel, col, slide, size", "hopping windows over a relation"),
    ("lag", "window", "x [, n]", "value n rows before"),
    ("lead", "window", "x [, n]", "value n rows after"),
    ("length", "normal", "s", "number of characters"),
    ("lower", "normal", "s", "lower case"),
    ("max", "aggregate", "x", "largest value"),
    ("min", "aggregate", "x", "smallest value"),
    ("mod", "normal", "a, b", "remainder"),
    ("now", "normal", "", "current timestamp"),
    ("nullif", "normal", "a, b", "null if a = b, else a"),
    ("position", "normal", "sub IN s", "location of a substring"),
    ("power", "normal", "a, b", "a raised to b"),
    ("rank", "window", "", "rank with gaps"),
    ("replace", "normal", "s, from, to", "replace every occurrence"),
    ("round", "normal", "x [, digits]", "round to digits"),
    ("row_number", "window", "", "number of the row in its partition"),
    ("split_part", "normal", "s, sep, n", "n-th field of s split at sep"),
    ("sqrt", "normal", "x", "square root"),
    ("string_agg", "aggregate", "s, sep", "values joined with sep"),
    ("substr", "normal", "s, start [, len]", "substring"),
    ("sum", "aggregate", "x", "sum of the non-null values"),
    ("to_char", "normal", "ts, format", "timestamp as text"),
    ("trim", "normal", "s", "remove leading and trailing blanks"),
    ("tumble", "table", "rel, col, size", "tumbling windows over a relation"),
    ("upper", "normal", "s", "upper case"),
)

FUNCTION_NAMES: tuple[str, ...] = tuple(f[0] for f in FUNCTIONS)
