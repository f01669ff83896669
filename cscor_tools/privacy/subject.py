"""Who a request is about: addresses normalized, and the keyed hashes that stand for them.

An address is matched case-insensitively with surrounding spaces ignored; plus-addressing
(``ann+news@example.com`` for ``ann@example.com``) is an opt-in, since ``+`` is an ordinary
character of some mailboxes. Matching is exact on whole addresses: ``joann@example.com`` and
``ann@example.com.au`` are other people.

The logs and the suppression list never hold an address: they hold a keyed hash of it (BLAKE2b
in its keyed mode, a MAC by design, at a third of HMAC-SHA256's cost, which a guarded sync pays
per row) under the workspace's ``subject_key`` (created by the migration ``0004_privacy``,
kept in the store beside the data it protects). Without the key a hash cannot be recomputed
from a guessed address. This module is light on purpose: the sync engine imports it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cscor_tools.errors import ConfigError, RejectedInputError

SUBJECT_KEY = "subject_key"
#: hex characters kept from the keyed hash (128 bits)
HASH_HEX = 32
_ADDRESS = re.compile(r"[^\s<>,;:\"'()\[\]]+@[^\s<>,;:\"'()\[\]]+")
_SEVERAL = re.compile(r"[<,; ]")
_PLAIN = re.compile(r"^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$")


def normalize_email(value: str) -> str:
    """An address as matched: surrounding spaces off, lower case."""
    return value.strip().lower()


def addresses(value: str | None) -> list[str]:
    """The normalized addresses a structured field holds: one address, ``Name <address>``, or
    a list separated by commas or semicolons. Anything else holds none."""
    if not value:
        return []
    plain = normalize_email(value)
    if "@" not in plain:
        return []
    if not _SEVERAL.search(plain):
        return [plain]
    return [a.strip(".") for a in _ADDRESS.findall(plain)]


def base_address(address: str) -> str:
    """The address without its ``+tag`` (``ann+news@x`` → ``ann@x``)."""
    local, at, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}"


@dataclass(frozen=True)
class Subject:
    """One person: one or more addresses (normalized), plus-addressing matched or not."""

    emails: tuple[str, ...]
    plus_addressing: bool = False

    @classmethod
    def of(cls, emails: str | Iterable[str], *, plus_addressing: bool = False) -> Subject:
        given = [emails] if isinstance(emails, str) else list(emails)
        out: list[str] = []
        for raw in given:
            email = normalize_email(raw)
            if not _PLAIN.match(email):
                raise RejectedInputError(f"{raw!r} is not an email address", field="email")
            if plus_addressing:
                email = base_address(email)
            if email not in out:
                out.append(email)
        if not out:
            raise RejectedInputError("name the person by at least one --email", field="email")
        return cls(tuple(out), plus_addressing)

    def matches(self, address: str) -> bool:
        """Whether a normalized address is this person's."""
        if self.plus_addressing:
            address = base_address(address)
        return address in self.emails


@dataclass(frozen=True)
class SubjectHasher:
    """Keyed hashes of addresses and row ids under the workspace's subject key; each kind of
    value hashes under its own personalization, so an id never collides with an address."""

    secret: bytes = field(repr=False)
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", hashlib.sha256(self.secret).digest())

    def _hash(self, text: str, kind: bytes) -> str:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), key=self._key,
                               digest_size=HASH_HEX // 2, person=kind).hexdigest()

    def email(self, address: str) -> str:
        return self._hash(address, b"email")

    def row(self, row_id: str) -> str:
        # once per row of a guarded sync: written out rather than through _hash
        return hashlib.blake2b(row_id.encode("utf-8", "surrogatepass"), key=self._key,
                               digest_size=HASH_HEX // 2, person=b"row").hexdigest()

    def handle(self, source: str, source_id: str) -> str:
        """A person's id at a source (a Slack user id) as messages name them."""
        return self._hash(f"{source}\x1f{source_id}", b"handle")

    def value(self, value: str) -> str:
        """A field's value (as canonical text), for telling whether a source sends the same
        value again."""
        return self._hash(value, b"value")

    def subject(self, subject: Subject) -> str:
        """The hash a log line names a person by: of their first address."""
        return self.email(subject.emails[0])

    def key_id(self) -> str:
        """A check value of the key (tells keys apart, reveals nothing)."""
        return self._hash("cscor_tools subject key id", b"key id")[:16]


def subject_hasher(stored: str | None) -> SubjectHasher:
    if not stored:
        raise ConfigError(
            "this workspace has no subject key: run `cscor init` to migrate it"
        )
    return SubjectHasher(stored.encode())


def hashes_of(hasher: SubjectHasher, values: Sequence[str]) -> set[str]:
    return {hasher.email(v) for v in values}
