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
    """HMAC-SHA256 of strings as hex pseudonyms, remembering up to ``memo_size`` of them.

    The HMAC is computed as RFC 2104 defines it, from inner and outer SHA-256 states prepared
    once: copying a prepared state is about twice as fast as ``hmac.digest`` per call, and
    exports hash millions of values.

    Foreign keys, names and emails repeat across rows and tables (a client's id, name and
    email come back on each of its invoices), so pseudonyms are remembered, one memo for a
    whole export. The memo stops growing when full rather than being cleared: in id order,
    repeats come at random, and a frozen memo keeps its hit rate where a cleared one would
    keep missing. Memory stays bounded however many rows pass (about 200 bytes a value).
    """

    def __init__(self, key: HashKey, *, memo_size: int = 1 << 19) -> None:
        secret = key.secret
        if len(secret) > _BLOCK:
            secret = hashlib.sha256(secret).digest()
        secret = secret.ljust(_BLOCK, b"\0")
        self._inner_copy = hashlib.sha256(bytes(b ^ 0x36 for b in secret)).copy
        self._outer_copy = hashlib.sha256(bytes(b ^ 0x5C for b in secret)).copy
        self._memo: dict[str, str] = {}
        self._memo_size = memo_size

    def pseudonym(self, value: str) -> str:
        inner = self._inner_copy()
        inner.update(value.encode("utf-8", "surrogatepass"))
        outer = self._outer_copy()
        outer.update(inner.digest())
        return outer.digest()[: PSEUDONYM_HEX // 2].hex()

    def pseudonyms(
        self, values: Sequence[str | None], *, distinct: bool = False
    ) -> list[str | None]:
        """Pseudonyms of ``values`` in order; None stays None.

        ``distinct``: the values are known not to repeat among themselves (a primary key), so
        they are not looked up; they are still remembered, for the foreign keys to come.
        """
        memo = self._memo
        room = self._memo_size - len(memo)
        out: list[str | None] = []
        if distinct:
            out = [None if v is None else self.pseudonym(v) for v in values]
            if room > 0:
                memo.update(
                    (v, p)
                    for v, p in zip(values[:room], out[:room], strict=True)
                    if v is not None and p is not None
                )
            return out
        for v in values:
            if v is None:
                out.append(None)
                continue
            hit = memo.get(v)
            if hit is None:
                hit = self.pseudonym(v)
                if room > 0:
                    memo[v] = hit
                    room -= 1
            out.append(hit)
        return out
