"""Who a request is about: addresses normalized, and the keyed hashes that stand for them.

An address is matched case-insensitively with surrounding spaces ignored; plus-addressing
(``ann+news@example.com`` for ``ann@example.com``) is an opt-in, since ``+`` is an ordinary
character of some mailboxes. Matching is exact on whole addresses: ``joann@example.com`` and
``ann@example.com.au`` are other people.

The logs and the suppression list never hold an address: they hold an HMAC-SHA256 of it under
the workspace's ``subject_key`` (created by the migration ``0004_privacy``, kept in the store
beside the data it protects). Without the key a hash cannot be recomputed from a guessed
address. This module is light on purpose: the sync engine imports it.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cscor_tools.errors import ConfigError, RejectedInputError

SUBJECT_KEY = "subject_key"
#: hex characters kept from the HMAC (128 bits)
HASH_HEX = 32
_ADDRESS = re.compile(r"[^\s<>,;:\"'()\[\]]+@[^\s<>,;:\"'()\[\]]+")
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
    if not any(c in plain for c in "<,; "):
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
    """Keyed hashes of addresses and row ids under the workspace's subject key."""

    secret: bytes = field(repr=False)

    def _hash(self, text: str) -> str:
        return hmac.digest(self.secret, text.encode("utf-8", "surrogatepass"), "sha256")[
            : HASH_HEX // 2
        ].hex()

    def email(self, address: str) -> str:
        return self._hash(f"email\x1f{address}")

    def row(self, row_id: str) -> str:
        return self._hash(f"row\x1f{row_id}")

    def handle(self, source: str, source_id: str) -> str:
        """A person's id at a source (a Slack user id) as messages name them."""
        return self._hash(f"handle\x1f{source}\x1f{source_id}")

    def value(self, value: object) -> str:
        """A field's value, for telling whether a source sends the same value again."""
        return self._hash(f"value\x1f{value!r}")

    def subject(self, subject: Subject) -> str:
        """The hash a log line names a person by: of their first address."""
        return self.email(subject.emails[0])

    def key_id(self) -> str:
        """A check value of the key (tells keys apart, reveals nothing)."""
        return self._hash("cscor_tools subject key id")[:16]


def subject_hasher(stored: str | None) -> SubjectHasher:
    if not stored:
        raise ConfigError(
            "this workspace has no subject key: run `cscor init` to migrate it"
        )
    return SubjectHasher(stored.encode())


def hashes_of(hasher: SubjectHasher, values: Sequence[str]) -> set[str]:
    return {hasher.email(v) for v in values}
