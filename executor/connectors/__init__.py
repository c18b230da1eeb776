"""Source connectors: one module each, registered by name in `base.CONNECTORS`."""

from executor.connectors import datagen, kafka, nexmark, posix_fs  # noqa: F401  (registration)
from executor.connectors.base import (CONNECTORS, Connector, ConnectorReader, SourceMetrics,
                                      SourceSpec)
from planner.errors import INVALID_PARAMETER, ProgrammingError


def connector(name: str) -> Connector:
    c = CONNECTORS.get(name.lower())
    if c is None:
        raise ProgrammingError(
            f'invalid option "connector": unknown connector "{name}" (known: '
            f'{", ".join(sorted(CONNECTORS))})', INVALID_PARAMETER)
    return c


__all__ = ["CONNECTORS", "Connector", "ConnectorReader", "SourceMetrics", "SourceSpec",
           "connector"]
