"""What every connector provides, and the registry of connectors by name.

A connector validates its options at CREATE (errors name the option) and opens
one reader per source actor. A reader owns the splits assigned to its actor and
hands out rows a chunk at a time (`read`); its position (`position` /
`restore`) is what the source reader stages with each checkpoint, so recovery
resumes exactly after the last committed row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from planner import types as T
from planner.errors import INVALID_PARAMETER, ProgrammingError


@dataclass
class SourceMetrics:
    """Counters of one source reader, read by the system tables."""

    rows_read: int = 0
    parse_errors: int = 0
    last_error: str | None = None
    # Rows older than the source's watermark when read, dropped (Flink's
    # numLateRecordsDropped).
    late_rows: int = 0

    def bad_record(self, message: str) -> None:
        self.parse_errors += 1
        self.last_error = message


@dataclass
class SourceSpec:
    """Everything a connector needs to open a reader for one actor."""

    options: dict[str, str]
    columns: list[tuple[str, T.DataType]]
    encode: str | None = None
    encode_options: dict[str, str] = field(default_factory=dict)
    actor_index: int = 0
    parallelism: int = 1
    metrics: SourceMetrics = field(default_factory=SourceMetrics)
    # Positions in `columns` of the values each row holds, in that order (None: all):
    # the columns a view reads. `columns` stays the whole declared list, since a CSV
    # file without a header and datagen's seeds go by declared position.
    output: list[int] | None = None
    format: str | None = None  # PLAIN | UPSERT
    # A table's primary key columns (an upsert format deletes by them).
    primary_key: list[str] = field(default_factory=list)

    @property
    def output_columns(self) -> list[int]:
        return list(range(len(self.columns))) if self.output is None else list(self.output)


class ConnectorReader:
    """Rows of the splits one actor owns. `read` never blocks: it returns up to
    `max_rows` rows available now ([] when none). `finished` is True once a
    bounded source has handed out its last row."""

    finished: bool = False
    # Rows per second this connector asks for by itself (datagen), None = no limit.
    default_rate: float | None = None
    # How long to wait before polling again when nothing was available (seconds).
    poll_interval: float = 0.2

    @property
    def idle(self) -> bool:
        """True when this reader will never hand out another row: it finished, or
        it owns no split of a connector whose splits are fixed at CREATE."""
        return self.finished

    def backlog(self) -> int | None:
        """Rows this reader still holds back (a bounded generator's rest), None when
        it cannot tell."""
        return None

    def read(self, max_rows: int) -> list[tuple]:
        raise NotImplementedError

    # True when rows come with their own ops (an upsert format): then `read_ops` is
    # called instead of `read`, and gives deletes as rows with only the key set.
    changes: bool = False

    def read_ops(self, max_rows: int) -> tuple[list[int], list[tuple]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release clients and threads (the reader's actor stopped)."""

    def position(self) -> Any:
        raise NotImplementedError

    def restore(self, position: Any) -> None:
        raise NotImplementedError


@dataclass
class Connector:
    name: str
    validate: Callable[[SourceSpec], None]
    open: Callable[[SourceSpec], ConnectorReader]
    # Columns implied by the options when the statement lists none.
    default_columns: Callable[[dict[str, str]], list[tuple[str, T.DataType]]] | None = None
    # Options filled in at CREATE so that every later reader generates the same rows.
    fixed_options: Callable[[dict[str, str]], dict[str, str]] | None = None
    # The option naming a local folder the connector reads, and the option that, set to
    # 'true', keeps its reads below that folder (no symbolic links out of it). Sessions
    # limited to some folders (network clients) may name only folders below them.
    folder_option: str | None = None
    confine_option: str | None = None
    # Warnings for the client at CREATE about options that are valid but likely wrong.
    warnings: Callable[[SourceSpec], list[str]] | None = None


CONNECTORS: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    CONNECTORS[connector.name] = connector
    return connector


def bad_option(name: str, message: str) -> ProgrammingError:
    return ProgrammingError(f'invalid option "{name}": {message}', INVALID_PARAMETER)


def int_option(options: dict[str, str], name: str, default: int | None,
               minimum: int | None = None) -> int | None:
    text = options.get(name)
    if text is None:
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        raise bad_option(name, f"expected an integer, got '{text}'") from None
    if minimum is not None and value < minimum:
        raise bad_option(name, f"must be at least {minimum}")
    return value


def float_option(options: dict[str, str], name: str, default: float | None) -> float | None:
    text = options.get(name)
    if text is None:
        return default
    try:
        return float(str(text).strip())
    except ValueError:
        raise bad_option(name, f"expected a number, got '{text}'") from None


def my_splits(total: int, actor_index: int, parallelism: int) -> list[int]:
    """The splits (of `total`) an actor reads: split i goes to actor i mod n."""
    return [i for i in range(total) if i % parallelism == actor_index]


MASK64 = (1 << 64) - 1


def mix64(x: int) -> int:
    """splitmix64: a fast, well-spread hash of an integer (deterministic randomness)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)
