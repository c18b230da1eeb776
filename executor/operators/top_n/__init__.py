"""Top-N family: global and per-group top-N with optional row number."""

from executor.operators.top_n.top_n import TopN

__all__ = ["TopN"]
