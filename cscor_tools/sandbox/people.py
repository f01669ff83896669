"""Realistic people and companies, seeded, shared by all three providers.

The same person is a Stripe customer, a Resend contact and, now and then, a guest in a shared
Slack channel: that overlap is what a workspace must reconcile. Faker is slow per call, so each
locale contributes a seeded pool of names, streets, cities and phone numbers once, and people
are composed from those pools by a seeded stream: 20,000 people take well under a second.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from cscor_tools.sandbox.ids import digest, stream

POOL_SIZE = 256


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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(text)).strip("-") or "company"


class _LocalePool:
    """Seeded Faker output for one locale, drawn once."""

    def __init__(self, seed: int, locale: Locale) -> None:
        fake = Faker(locale.code)
        fake.seed_instance(int.from_bytes(digest(seed, "faker", locale.code)[:8], "big"))
        self.locale = locale
        self.japanese = locale.code == "ja_JP"

        def draw(fn: Callable[[], object]) -> list[str]:
            return [str(fn()) for _ in range(POOL_SIZE)]

        if self.japanese:
            # (kanji, katakana, romaji) pairs keep the written name and the email consistent
            self.first = [fake.first_name_pair() for _ in range(POOL_SIZE)]
            self.last = [fake.last_name_pair() for _ in range(POOL_SIZE)]
            self.streets = [
                f"{fake.town()}{fake.chome()}{fake.ban()}{fake.gou()}" for _ in range(POOL_SIZE)
            ]
            self.states: list[str] | None = draw(fake.prefecture)
        else:
            firsts = draw(fake.first_name)
            lasts = draw(fake.last_name)
            self.first = [(n, n, n) for n in firsts]
            self.last = [(n, n, n) for n in lasts]
            self.streets = draw(fake.street_address)
            self.states = draw(fake.state_abbr) if hasattr(fake, "state_abbr") else None
        self.secondary = draw(fake.secondary_address) if hasattr(fake, "secondary_address") else []
        self.cities = draw(fake.city)
        self.postcodes = draw(fake.postcode)
        self.phones = draw(fake.phone_number)
        self.companies = draw(fake.company)
        self.free_domains = sorted(set(draw(fake.free_email_domain)))


class PeoplePool:
    """Generates a deterministic sequence of distinct people for a seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._pools: dict[str, _LocalePool] = {}
        self._rng = stream(seed, "people")
        self._people: list[Person] = []
        self._emails: set[str] = set()
        self._weights = [loc.weight for loc in LOCALES]

    def _pool(self, locale: Locale) -> _LocalePool:
        if locale.code not in self._pools:
            self._pools[locale.code] = _LocalePool(self.seed, locale)
        return self._pools[locale.code]

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
        locale = rng.choices(LOCALES, weights=self._weights)[0]
        pool = self._pool(locale)
        first = rng.choice(pool.first)
        last = rng.choice(pool.last)
        company = rng.choice(pool.companies)
        if pool.japanese:
            name = f"{last[0]} {first[0]}"
        else:
            name = f"{first[0]} {last[0]}"
        handle = ascii_fold(f"{first[2]}.{last[2]}").replace(" ", "")
        handle = re.sub(r"[^a-z0-9.]+", "", handle) or f"user{index}"
        domain = (
            rng.choice(pool.free_domains)
            if rng.random() < 0.55
            else f"{slug(company)[:24].strip('-')}.{_tld(locale)}"
        )
        email = self._unique_email(handle, domain, rng)
        line2 = rng.choice(pool.secondary) if pool.secondary and rng.random() < 0.2 else None
        state = rng.choice(pool.states) if pool.states else None
        address = Address(
            line1=rng.choice(pool.streets).strip(),
            line2=line2,
            city=rng.choice(pool.cities),
            state=state,
            postal_code=rng.choice(pool.postcodes),
            country=locale.country,
        )
        return Person(
            index=index,
            first_name=first[0],
            last_name=last[0],
            name=name,
            email=email,
            phone=rng.choice(pool.phones),
            company=company,
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
