"""Loopback helpers shared by tests that start servers: a free port, and the
samples of a Prometheus /metrics page."""

from __future__ import annotations

import socket
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric_samples(port: int, name: str, **labels: str) -> list[float]:
    """Values of the samples of metric `name` on http://127.0.0.1:port/metrics whose
    labels include `labels`."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10
                                  ).read().decode()
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if (head == name or head.startswith(name + "{")) and all(w in head for w in wanted):
            out.append(float(value))
    return out
