"""SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it, server side, without channel
binding. The salted password is derived once per server, like a stored verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096


class AuthFailed(Exception):
    """The client's proof did not match, or its SCRAM messages were malformed."""


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Verifier:
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    @classmethod
    def from_password(cls, password: str, iterations: int = ITERATIONS) -> Verifier:
        salt = secrets.token_bytes(16)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
        return cls(salt, iterations, hashlib.sha256(_hmac(salted, b"Client Key")).digest(),
                   _hmac(salted, b"Server Key"))


def _attrs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=":
            raise AuthFailed("malformed SCRAM message")
        out[part[0]] = part[2:]
    return out


class ScramExchange:
    """One authentication: `first(client_first) -> server_first`,
    `final(client_final) -> server_final` (raises AuthFailed on a wrong proof)."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.client_first_bare = ""
        self.server_first = ""
        self.nonce = ""

    def first(self, client_first: bytes) -> bytes:
        try:
            text = client_first.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthFailed("malformed SCRAM message") from None
        if not text or text[0] not in "ny":
            raise AuthFailed("channel binding is not supported")
        parts = text.split(",", 2)
        if len(parts) != 3:
            raise AuthFailed("malformed SCRAM message")
        self.client_first_bare = parts[2]
        cnonce = _attrs(self.client_first_bare).get("r")
        if not cnonce:
            raise AuthFailed("malformed SCRAM message")
        self.nonce = cnonce + base64.b64encode(secrets.token_bytes(18)).decode()
        v = self.verifier
        self.server_first = (f"r={self.nonce},s={base64.b64encode(v.salt).decode()},"
                             f"i={v.iterations}")
        return self.server_first.encode()

    def final(self, client_final: bytes) -> bytes:
        try:
            text = client_final.decode("utf-8")
            without_proof, _, proof_part = text.rpartition(",p=")
            attrs = _attrs(without_proof)
            proof = base64.b64decode(proof_part, validate=True)
        except (UnicodeDecodeError, ValueError):
            raise AuthFailed("malformed SCRAM message") from None
        if attrs.get("r") != self.nonce or len(proof) != 32:
            raise AuthFailed("password authentication failed")
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        v = self.verifier
        signature = _hmac(v.stored_key, auth_message)
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), v.stored_key):
            raise AuthFailed("password authentication failed")
        server_sig = _hmac(v.server_key, auth_message)
        return b"v=" + base64.b64encode(server_sig)
