"""The error classes of every layer, with their PostgreSQL SQLSTATE.

They are defined here, the lowest layer that raises SQL errors, and re-exported by
`sqlstream` under the DB-API 2.0 (PEP 249) names users catch.
"""

from __future__ import annotations


class Warning(Exception):  # noqa: A001 - the PEP 249 name
    pass


class Error(Exception):
    """Base of all sqlstream errors. `sqlstate` is PostgreSQL's five-character code;
    `position` is the 1-based character offset in the statement, where one applies."""

    default_sqlstate = "XX000"

    def __init__(self, message: str, sqlstate: str | None = None,
                 position: int | None = None, detail: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate or self.default_sqlstate
        self.position = position
        self.detail = detail
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InterfaceError(Error):
    default_sqlstate = "08000"


class DatabaseError(Error):
    default_sqlstate = "XX000"


class DataError(DatabaseError):
    default_sqlstate = "22000"


class OperationalError(DatabaseError):
    default_sqlstate = "58000"


class IntegrityError(DatabaseError):
    default_sqlstate = "23000"


class InternalError(DatabaseError):
    default_sqlstate = "XX000"


class ProgrammingError(DatabaseError):
    default_sqlstate = "42000"


class ProgramLimitError(OperationalError):
    """A statement beyond what the engine accepts (nesting, size): class 54."""

    default_sqlstate = "54000"


class NotSupportedError(DatabaseError):
    default_sqlstate = "0A000"


# Common codes, named for readability at raise sites.
SYNTAX_ERROR = "42601"
UNDEFINED_TABLE = "42P01"
UNDEFINED_COLUMN = "42703"
UNDEFINED_FUNCTION = "42883"
DUPLICATE_TABLE = "42P07"
DUPLICATE_OBJECT = "42710"
DUPLICATE_COLUMN = "42701"
AMBIGUOUS_COLUMN = "42702"
DATATYPE_MISMATCH = "42804"
GROUPING_ERROR = "42803"
INVALID_PARAMETER = "22023"
DIVISION_BY_ZERO = "22012"
NUMERIC_OUT_OF_RANGE = "22003"
INVALID_TEXT = "22P02"
NOT_NULL_VIOLATION = "23502"
UNIQUE_VIOLATION = "23505"
DEPENDENT_OBJECTS = "2BP01"
FEATURE_NOT_SUPPORTED = "0A000"
UNDEFINED_OBJECT = "42704"
CANT_CHANGE_RUNTIME_PARAM = "55P02"
INSUFFICIENT_PRIVILEGE = "42501"
INVALID_NAME = "42602"
STACK_DEPTH = "54001"
PROGRAM_LIMIT = "54000"
OBJECT_NOT_IN_PREREQUISITE_STATE = "55000"


def not_supported(what: str, position: int | None = None) -> NotSupportedError:
    return NotSupportedError(f"{what} is not supported", FEATURE_NOT_SUPPORTED, position)
