"""A real HTTP client for the dashboard tests (urllib over loopback), with optional
basic auth, and a reader of the first event of a server-sent event stream."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any


def request(url: str, password: str | None = None, method: str = "GET",
            user: str = "root") -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request (errors are answers, not exceptions)."""
    req = urllib.request.Request(url, method=method)
    if password is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get_json(url: str, password: str | None = None) -> Any:
    status, _headers, body = request(url, password)
    assert status == 200, (url, status, body[:300])
    return json.loads(body)


def first_event(url: str, password: str | None = None) -> tuple[str, dict[str, str], Any]:
    """The content type, and name and JSON data of the first named event on a stream."""
    req = urllib.request.Request(url)
    if password is not None:
        req.add_header("Authorization",
                       "Basic " + base64.b64encode(f"root:{password}".encode()).decode())
    with urllib.request.urlopen(req, timeout=15) as resp:
        ctype = resp.headers.get("Content-Type", "")
        fields: dict[str, str] = {}
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if not line:
                if "event" in fields:
                    return ctype, fields, json.loads(fields["data"])
                fields = {}
                continue
            key, _, value = line.partition(": ")
            fields[key] = value
    raise AssertionError("the stream ended before an event")
