"""PostgreSQL protocol v3 framing: reading client messages and building server ones.

Every parse error raises `ProtocolViolation`, which ends only the offending connection.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from planner.errors import DataError

PROTOCOL_V3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_STARTUP_LEN = 10_000
MAX_MESSAGE_LEN = 64 * 1024 * 1024
# Before authentication (PostgreSQL caps the SASL messages likewise): SCRAM needs a
# few hundred bytes, and a client must not make the server buffer more unauthenticated.
MAX_AUTH_MESSAGE_LEN = 8192

_I16 = struct.Struct("!h")
_U16 = struct.Struct("!H")
_I32 = struct.Struct("!i")


class ProtocolViolation(Exception):
    """The client sent bytes that are not a valid protocol message."""


class MessageTooLong(ProtocolViolation):
    """A message announced a length over the limit; its body was not read."""


class InvalidEncoding(ProtocolViolation, DataError):
    """A string that is not UTF-8. In a statement it fails that statement (22021, as
    PostgreSQL does) and the session goes on; before the session starts it is a
    protocol violation."""


@dataclass(frozen=True, slots=True)
class Message:
    kind: bytes  # one ASCII byte, e.g. b"Q"
    body: bytes


class Payload:
    """A cursor over a message body; every read checks bounds."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolViolation("message is truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int16(self) -> int:
        return _I16.unpack(self._take(2))[0]

    def uint16(self) -> int:
        return _U16.unpack(self._take(2))[0]

    def int32(self) -> int:
        return _I32.unpack(self._take(4))[0]

    def byte(self) -> bytes:
        return self._take(1)

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolViolation("string is not terminated")
        raw = self.data[self.pos:end]
        self.pos = end + 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            seq = " ".join(f"0x{b:02x}" for b in raw[e.start:e.start + 2])
            raise InvalidEncoding(f'invalid byte sequence for encoding "UTF8": {seq}',
                                  "22021") from None

    def rest(self) -> bytes:
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out

    def at_end(self) -> bool:
        return self.pos >= len(self.data)


async def read_startup(reader: asyncio.StreamReader) -> tuple[int, Payload]:
    """The first packet of a connection: (code, payload after the code)."""
    head = await reader.readexactly(4)
    length = _I32.unpack(head)[0]
    if length < 8 or length > MAX_STARTUP_LEN:
        raise ProtocolViolation("invalid startup packet length")
    body = await reader.readexactly(length - 4)
    return _I32.unpack(body[:4])[0], Payload(body[4:])


async def read_message(reader: asyncio.StreamReader,
                       max_len: int = MAX_MESSAGE_LEN) -> Message:
    """One typed message; raises IncompleteReadError at end of stream, MessageTooLong
    (before reading the body) when its length is over `max_len`."""
    head = await reader.readexactly(5)
    length = _I32.unpack(head[1:])[0]
    if length > max_len:
        raise MessageTooLong(f"invalid message length {length} (at most {max_len} here)")
    if length < 4:
        raise ProtocolViolation("invalid message length")
    return Message(head[:1], await reader.readexactly(length - 4))


def parse_startup_params(p: Payload) -> dict[str, str]:
    params: dict[str, str] = {}
    while True:
        key = p.cstring()
        if not key:
            return params
        params[key] = p.cstring()


# ---------------------------------------------------------------- server messages

def msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + _I32.pack(len(body) + 4) + body


def cstr(text: str) -> bytes:
    return text.encode("utf-8").replace(b"\0", b"") + b"\0"


def auth_request(code: int, data: bytes = b"") -> bytes:
    return msg(b"R", _I32.pack(code) + data)


AUTH_OK = auth_request(0)
PARSE_COMPLETE = msg(b"1")
BIND_COMPLETE = msg(b"2")
CLOSE_COMPLETE = msg(b"3")
NO_DATA = msg(b"n")
PORTAL_SUSPENDED = msg(b"s")
EMPTY_QUERY = msg(b"I")


def parameter_status(name: str, value: str) -> bytes:
    return msg(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return msg(b"K", _I32.pack(pid) + _I32.pack(secret))


def ready_for_query(status: str) -> bytes:
    return msg(b"Z", status.encode())


def command_complete(tag: str) -> bytes:
    return msg(b"C", cstr(tag))


def parameter_description(oids: list[int]) -> bytes:
    return msg(b"t", _I16.pack(len(oids)) + b"".join(_I32.pack(o) for o in oids))


def row_description(fields: list[tuple[str, int, int, int]]) -> bytes:
    """fields: (name, type oid, type length, format code)."""
    parts = [_I16.pack(len(fields))]
    for name, oid, typlen, fmt in fields:
        parts.append(cstr(name) + struct.pack("!ihihih", 0, 0, oid, typlen, -1, fmt))
    return msg(b"T", b"".join(parts))


def data_row(values: list[bytes | None]) -> bytes:
    parts = [_I16.pack(len(values))]
    for v in values:
        if v is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(_I32.pack(len(v)))
            parts.append(v)
    return msg(b"D", b"".join(parts))


def error_fields(kind: bytes, fields: list[tuple[str, str]]) -> bytes:
    body = b"".join(code.encode() + cstr(value) for code, value in fields) + b"\0"
    return msg(kind, body)


def error_response(severity: str, sqlstate: str, message: str, position: int | None = None,
                   detail: str | None = None, hint: str | None = None) -> bytes:
    fields = [("S", severity), ("V", severity), ("C", sqlstate), ("M", message)]
    if detail:
        fields.append(("D", detail))
    if hint:
        fields.append(("H", hint))
    if position:
        fields.append(("P", str(position)))
    return error_fields(b"E", fields)


def notice_response(message: str, severity: str = "NOTICE", sqlstate: str = "00000") -> bytes:
    return error_fields(b"N", [("S", severity), ("V", severity), ("C", sqlstate),
                               ("M", message)])
