"""Counters of what the server did, per provider: requests, statuses, 429s, faults, objects."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from cscor_tools.sandbox.config import PROVIDERS


@dataclass
class ProviderStats:
    requests: int = 0
    #: HTTP status → count, for answers that reached the client as an HTTP response
    statuses: dict[str, int] = field(default_factory=dict)
    #: refused by the rate limit (the provider's own 429)
    rate_limited: int = 0
    #: injected faults by kind (429, 500, 502, 503, reset, truncate, slow)
    faults: dict[str, int] = field(default_factory=dict)
    #: objects in successful responses
    objects: int = 0


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_provider = {p: ProviderStats() for p in PROVIDERS}

    def request(self, provider: str) -> None:
        with self._lock:
            self._by_provider[provider].requests += 1

    def response(self, provider: str, status: int, objects: int) -> None:
        with self._lock:
            stats = self._by_provider[provider]
            stats.statuses[str(status)] = stats.statuses.get(str(status), 0) + 1
            if status < 400:
                stats.objects += objects

    def rate_limited(self, provider: str) -> None:
        with self._lock:
            self._by_provider[provider].rate_limited += 1

    def fault(self, provider: str, kind: str) -> None:
        with self._lock:
            faults = self._by_provider[provider].faults
            faults[kind] = faults.get(kind, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {p: asdict(s) for p, s in self._by_provider.items()}

    def reset(self) -> None:
        with self._lock:
            self._by_provider = {p: ProviderStats() for p in PROVIDERS}
