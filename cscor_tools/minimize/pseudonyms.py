"""Keyed pseudonyms: HMAC-SHA256 under the workspace key, and where that key comes from.

The same input under the same key always gives the same pseudonym, in every entity and every
export, so pseudonymized tables still join (``clients.email`` meets ``invoices.customer_email``).
Without the key a pseudonym cannot be reversed or recomputed from a guessed email, which is
what a plain hash would allow.

The key is the workspace's random ``hash_key`` (created when the store is first migrated), or
the value of ``CSCOR_HASH_KEY`` when set, e.g. to share pseudonyms between workspaces. It is
held in a :class:`HashKey` whose repr never shows it, and it is never written anywhere.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cscor_tools.errors import ConfigError

HASH_KEY_ENV = "CSCOR_HASH_KEY"
#: hex characters kept from the HMAC: 128 bits, collision-free at any workspace's size
PSEUDONYM_HEX = 32
_MIN_KEY_BYTES = 16
_BLOCK = 64  # SHA-256 block size, as RFC 2104 pads the key to it


@dataclass(frozen=True)
class HashKey:
    """The pseudonymization key and where it came from (``workspace`` or the env var)."""

    secret: bytes = field(repr=False)
    origin: str

    def key_id(self) -> str:
        """A check value (HMAC of a constant): tells two exports' keys apart, reveals nothing."""
        return Pseudonymizer(self).pseudonym("cscor_tools key id")[:16]


def resolve_hash_key(stored: str | None, env: Mapping[str, str] = os.environ) -> HashKey:
    """The key from ``CSCOR_HASH_KEY`` if set, else the workspace's stored one."""
    value = env.get(HASH_KEY_ENV)
    if value:
        if len(value.encode()) < _MIN_KEY_BYTES:
            raise ConfigError(
                f"{HASH_KEY_ENV} is too short to be a pseudonymization key: use at least "
                f"{_MIN_KEY_BYTES} random characters (e.g. `openssl rand -hex 32`)"
            )
        return HashKey(value.encode(), origin=f"env:{HASH_KEY_ENV}")
    if not stored:
        raise ConfigError(
            "this workspace has no pseudonymization key: run `cscor init` to migrate it, "
            f"or set {HASH_KEY_ENV}"
        )
    return HashKey(stored.encode(), origin="workspace")


class Pseudonymizer:
    """HMAC-SHA256 of strings as hex pseudonyms, with a bounded memo of recent inputs.

    The HMAC is computed as RFC 2104 defines it, from inner and outer SHA-256 states prepared
    once: copying a prepared state is about twice as fast as ``hmac.digest`` per call, and
    exports hash millions of values. The memo is cleared when full, so memory stays bounded
    however many distinct values pass.
    """

    def __init__(self, key: HashKey, *, memo_size: int = 1 << 18) -> None:
        secret = key.secret
        if len(secret) > _BLOCK:
            secret = hashlib.sha256(secret).digest()
        secret = secret.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))
        self._memo: dict[str, str] = {}
        self._memo_size = memo_size

    def pseudonym(self, value: str) -> str:
        inner = self._inner.copy()
        inner.update(value.encode("utf-8", "surrogatepass"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:PSEUDONYM_HEX]

    def pseudonyms(self, values: Sequence[str | None], *, memo: bool = True) -> list[str | None]:
        """Pseudonyms of ``values`` in order; None stays None. ``memo=False`` for unique keys."""
        if not memo:
            return [None if v is None else self.pseudonym(v) for v in values]
        cache = self._memo
        if len(cache) + len(values) > self._memo_size:
            cache.clear()
        out: list[str | None] = []
        for v in values:
            if v is None:
                out.append(None)
                continue
            hit = cache.get(v)
            if hit is None:
                hit = cache[v] = self.pseudonym(v)
            out.append(hit)
        return out
