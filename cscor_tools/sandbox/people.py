"""Realistic people and companies, seeded, shared by all three providers.

The same person is a Stripe customer, a Resend contact and, now and then, a guest in a shared
Slack channel: that overlap is what a workspace must reconcile. Faker is slow per call, so each
locale contributes a seeded pool of names, streets, cities and phone numbers once, and people
are composed from those pools by a stream seeded by the sandbox's seed: 20,000 people take
well under a second.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from faker import Faker

from cscor_tools.sandbox.ids import Weighted, digest, stream

#: distinct names drawn per locale (256 × 256 first/last combinations each)
NAME_POOL = 256
#: distinct streets, cities, phones, companies drawn per locale
PLACE_POOL = 96


@dataclass(frozen=True)
class Locale:
    code: str  # Faker's name
    country: str  # ISO 3166-1 alpha-2
    currency: str  # ISO 4217, lower case as Stripe writes it
    language: str  # BCP 47, as Stripe's preferred_locales
    weight: int


LOCALES: tuple[Locale, ...] = (
    Locale("en_US", "US", "usd", "en-US", 44),
    Locale("en_GB", "GB", "gbp", "en-GB", 12),
    Locale("de_DE", "DE", "eur", "de-DE", 12),
    Locale("fr_FR", "FR", "eur", "fr-FR", 10),
    Locale("es_ES", "ES", "eur", "es-ES", 6),
    Locale("nl_NL", "NL", "eur", "nl-NL", 5),
    Locale("ja_JP", "JP", "jpy", "ja-JP", 5),
    Locale("en_AU", "AU", "aud", "en-AU", 6),
)


@dataclass(slots=True)
class Address:
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str
    country: str

    def as_stripe(self) -> dict[str, str | None]:
        return {
            "city": self.city,
            "country": self.country,
            "line1": self.line1,
            "line2": self.line2,
            "postal_code": self.postal_code,
            "state": self.state,
        }


@dataclass(slots=True)
class Person:
    """One human, as every provider will see them."""

    index: int
    first_name: str
    last_name: str
    #: display name in the person's own convention (family name first in Japanese)
    name: str
    email: str
    phone: str
    company: str
    address: Address
    locale: Locale
    #: ASCII handle, used for Slack user names and email local parts
    handle: str


def ascii_fold(text: str) -> str:
    """``Grégoire Müller`` → ``gregoire muller``: for email local parts and handles."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode(
        "ascii", "ignore"
    ).decode().lower()


def _handle(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "", ascii_fold(text).replace(" ", ""))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(text)).strip("-") or "company"


#: Faker draws a locale's pool from this fixed seed, once per process; the sandbox's seed then
#: picks people from the pools, so sandboxes with different seeds still differ throughout
POOL_SEED = 20261101


@cache
def _pool_for(code: str) -> _LocalePool:
    return _LocalePool(next(loc for loc in LOCALES if loc.code == code))


class _LocalePool:
    """Faker output for one locale, drawn once and shared by every sandbox of the process."""

    def __init__(self, locale: Locale) -> None:
        fake = Faker(locale.code)
        fake.seed_instance(int.from_bytes(digest(POOL_SEED, "faker", locale.code)[:8], "big"))
        self.locale = locale
        self.japanese = locale.code == "ja_JP"

        def draw(fn: Callable[[], object], size: int = PLACE_POOL) -> list[str]:
            return [str(fn()) for _ in range(size)]

        # (written, romanized) pairs; Japanese names keep kanji and romaji consistent
        if self.japanese:
            self.first = [(k, r) for k, _, r in (fake.first_name_pair() for _ in range(NAME_POOL))]
            self.last = [(k, r) for k, _, r in (fake.last_name_pair() for _ in range(NAME_POOL))]
            self.streets = [
                f"{fake.town()}{fake.chome()}{fake.ban()}{fake.gou()}" for _ in range(PLACE_POOL)
            ]
            self.states: list[str] | None = draw(fake.prefecture)
        else:
            self.first = [(n, n) for n in draw(fake.first_name, NAME_POOL)]
            self.last = [(n, n) for n in draw(fake.last_name, NAME_POOL)]
            self.streets = [street.strip() for street in draw(fake.street_address)]
            self.states = draw(fake.state_abbr) if hasattr(fake, "state_abbr") else None
        # email local parts, folded once per name rather than once per person
        self.first_handles = [_handle(r) for _, r in self.first]
        self.last_handles = [_handle(r) for _, r in self.last]
        self.secondary = draw(fake.secondary_address) if hasattr(fake, "secondary_address") else []
        self.cities = draw(fake.city)
        self.postcodes = draw(fake.postcode)
        self.phones = draw(fake.phone_number)
        self.companies = draw(fake.company)
        self.company_domains = [f"{slug(c)[:24].strip('-')}.{_tld(locale)}" for c in self.companies]
        self.free_domains = sorted(set(draw(fake.free_email_domain, 32)))


class PeoplePool:
    """Generates a deterministic sequence of distinct people for a seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = stream(seed, "people")
        self._people: list[Person] = []
        self._emails: set[str] = set()
        self._locales = Weighted(*((loc, loc.weight) for loc in LOCALES))

    @staticmethod
    def _pool(locale: Locale) -> _LocalePool:
        return _pool_for(locale.code)

    def get(self, index: int) -> Person:
        """The ``index``-th person; people are made in order, so this is deterministic."""
        while len(self._people) <= index:
            self._people.append(self._make(len(self._people)))
        return self._people[index]

    def take(self, start: int, count: int) -> list[Person]:
        if count > 0:
            self.get(start + count - 1)
        return self._people[start : start + count]

    def _make(self, index: int) -> Person:
        rng = self._rng
        locale = self._locales.pick(rng)
        pool = self._pool(locale)
        places = PLACE_POOL
        f, la, c = rng.randrange(NAME_POOL), rng.randrange(NAME_POOL), rng.randrange(places)
        first, last = pool.first[f][0], pool.last[la][0]
        name = f"{last} {first}" if pool.japanese else f"{first} {last}"
        handle = f"{pool.first_handles[f]}.{pool.last_handles[la]}".strip(".") or f"user{index}"
        if rng.random() < 0.55:
            domain = pool.free_domains[rng.randrange(len(pool.free_domains))]
        else:
            domain = pool.company_domains[c]
        line2 = None
        if pool.secondary and rng.random() < 0.2:
            line2 = pool.secondary[rng.randrange(places)]
        address = Address(
            line1=pool.streets[rng.randrange(places)],
            line2=line2,
            city=pool.cities[rng.randrange(places)],
            state=pool.states[rng.randrange(places)] if pool.states else None,
            postal_code=pool.postcodes[rng.randrange(places)],
            country=locale.country,
        )
        return Person(
            index=index,
            first_name=first,
            last_name=last,
            name=name,
            email=self._unique_email(handle, domain, rng),
            phone=pool.phones[rng.randrange(places)],
            company=pool.companies[c],
            address=address,
            locale=locale,
            handle=handle,
        )

    def _unique_email(self, handle: str, domain: str, rng: random.Random) -> str:
        email = f"{handle}@{domain}"
        while email in self._emails:
            email = f"{handle}{rng.randint(2, 9999)}@{domain}"
        self._emails.add(email)
        return email


def _tld(locale: Locale) -> str:
    return {"US": "com", "GB": "co.uk", "AU": "com.au", "JP": "co.jp"}.get(
        locale.country, locale.country.lower()
    )
