"""Which requests fail on purpose, decided so that the same seed fails the same requests.

A shared random generator would hand faults out in arrival order, which depends on thread
scheduling. Instead each request is identified by a signature (method, path, parameters, body)
and by how many times that signature has arrived; the decision is a hash of the seed and both.
A client that retries sees the retry decided afresh, and two runs with the same seed and the
same requests see the same faults, however their threads interleave.
"""

from __future__ import annotations

import hashlib
import threading

from cscor_tools.sandbox.config import FaultKind


def signature(provider: str, method: str, path: str, query: str, body: bytes) -> str:
    params = "&".join(sorted(query.split("&"))) if query else ""
    body_hash = hashlib.blake2b(body, digest_size=8).hexdigest() if body else ""
    return f"{provider} {method} {path}?{params} {body_hash}"


class FaultPlan:
    def __init__(self, seed: int, rate: float, kinds: tuple[FaultKind, ...]) -> None:
        self.seed = seed
        self.rate = rate
        self.kinds = kinds
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def decide(self, sig: str) -> FaultKind | None:
        with self._lock:
            occurrence = self._seen.get(sig, 0)
            self._seen[sig] = occurrence + 1
        if self.rate <= 0 or not self.kinds:
            return None
        raw = hashlib.blake2b(f"{self.seed}\x1f{sig}\x1f{occurrence}".encode(),
                              digest_size=16).digest()
        draw = int.from_bytes(raw[:8], "big") / 2**64
        if draw >= self.rate:
            return None
        return self.kinds[int.from_bytes(raw[8:], "big") % len(self.kinds)]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
