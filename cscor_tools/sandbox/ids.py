"""Deterministic identifiers and random streams, each derived from the seed and a name.

Every generated value comes from a stream named for what it generates, so adding a kind of
object to one provider never shifts the values of another: the same seed keeps giving the same
customers even when the Slack generator changes.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import uuid
from bisect import bisect
from typing import Generic, TypeVar

T = TypeVar("T")

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_UPPER36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def digest(*parts: object, size: int = 32) -> bytes:
    """A stable hash of the parts (never Python's salted ``hash``)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def _table(alphabet: str) -> bytes:
    # byte -> character by remainder: a slight bias towards early characters, harmless here,
    # and one C-level translate instead of a loop of big-integer divisions
    return bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))


_B62_TABLE = _table(_BASE62)
_U36_TABLE = _table(_UPPER36)


def _encode(raw: bytes, table: bytes, length: int) -> str:
    return raw[:length].translate(table).decode()


def derived(base: str, kind: str, length: int) -> str:
    """Base62 characters that follow from an id: secrets and tokens made only when an object is
    rendered, so generating an object costs one random id, not five."""
    raw = hashlib.blake2b(f"{kind}\x1f{base}".encode(), digest_size=64).digest()
    return _encode(raw, _B62_TABLE, length)


def derived_digits(base: str, kind: str, digits: int) -> str:
    """Decimal digits that follow from an id (authorization codes, network ids)."""
    raw = hashlib.blake2b(f"{kind}\x1f{base}".encode(), digest_size=16).digest()
    return f"{int.from_bytes(raw, 'big') % 10**digits:0{digits}d}"


class Weighted(Generic[T]):
    """Options with weights, picked by one bisection (``random.choices`` is slower per pick)."""

    def __init__(self, *pairs: tuple[T, float]) -> None:
        self.options = [option for option, _ in pairs]
        self._cumulative = list(itertools.accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random) -> T:
        return self.options[bisect(self._cumulative, rng.random() * self._cumulative[-1])]


def stream(seed: int, name: str) -> random.Random:
    """A random stream private to one generator."""
    return random.Random(digest(seed, "stream", name))


class IdFactory:
    """Mints provider-shaped ids from one random stream per kind of id.

    Generation runs in a fixed order, so the n-th id of a kind is the same for the same seed;
    a stream per kind keeps one kind's ids from shifting when another kind is added.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}
        self._text: dict[str, tuple[str, int]] = {}  # kind → (base62 text drawn, position)

    def _bytes(self, kind: str, length: int) -> bytes:
        rng = self._streams.get(kind)
        if rng is None:
            rng = self._streams[kind] = stream(self.seed, f"id:{kind}")
        return rng.randbytes(length)

    def token(self, kind: str, length: int = 14) -> str:
        """Base62 characters, e.g. for a card fingerprint.

        Characters are drawn a few thousand at a time and handed out in order: generating
        300,000 ids one random call at a time would cost a noticeable share of start-up.
        """
        text, at = self._text.get(kind, ("", 0))
        if at + length > len(text):
            more = max(4096, length)
            text, at = text[at:] + _encode(self._bytes(kind, more), _B62_TABLE, more), 0
        self._text[kind] = (text, at + length)
        return text[at : at + length]

    def stripe(self, prefix: str, kind: str, length: int = 14) -> str:
        """``cus_QXg1o8vcGmoR32``-like: a prefix and base62 characters."""
        return f"{prefix}_{self.token(kind, length)}"

    def uuid(self, kind: str) -> str:
        """A version-4-shaped UUID, as Resend uses."""
        return str(uuid.UUID(bytes=self._bytes(kind, 16), version=4))

    def slack(self, prefix: str, kind: str, length: int = 10) -> str:
        """``U012AB3CDE``-like: a prefix letter and upper-case alphanumerics."""
        return prefix + _encode(self._bytes(kind, length), _U36_TABLE, length)

    def hex(self, kind: str, length: int = 12) -> str:
        return self._bytes(kind, (length + 1) // 2).hex()[:length]
