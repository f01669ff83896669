"""ISO code lists the importer checks against: ISO 4217 currencies and ISO 3166-1 countries.

The code lists come from pycountry (Debian's iso-codes data), kept current by its
maintainers; only what pycountry does not carry is written here: the minor-unit exponent of
the few currencies that do not have two decimals (ISO 4217's "minor unit" column).
"""

from __future__ import annotations

import unicodedata

import pycountry

#: lower-case ISO 4217 codes, as the workspace stores them
CURRENCIES: frozenset[str] = frozenset(c.alpha_3.lower() for c in pycountry.currencies)

#: upper-case ISO 3166-1 alpha-2 codes, as the workspace stores them
COUNTRIES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)

# ISO 4217 minor units other than 2. Stable for decades; a currency not listed has 2.
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        ("bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "pyg", "rwf", "ugx", "uyi",
         "vnd", "vuv", "xaf", "xof", "xpf"),
        0,
    ),
    **dict.fromkeys(("bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"), 3),
    **dict.fromkeys(("clf", "uyw"), 4),
}
#: funds, metals and test codes: ISO 4217 gives them no minor unit, so no amount in major
#: units can be converted for them
_NO_MINOR_UNIT = frozenset(
    ("xag", "xau", "xba", "xbb", "xbc", "xbd", "xdr", "xpd", "xpt", "xsu", "xts", "xua", "xxx")
)


def minor_unit_exponent(currency: str) -> int | None:
    """Decimal places of ``currency`` (lower case); None when ISO 4217 defines none."""
    if currency in _NO_MINOR_UNIT:
        return None
    return _EXPONENTS.get(currency, 2)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name: 'Côte d’Ivoire' → 'cote d ivoire'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in bare).split())


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                names[fold(value)] = c.alpha_2
        names[fold(c.alpha_3)] = c.alpha_2
    # names people write that iso-codes spells otherwise
    for alias, code in (("uk", "GB"), ("great britain", "GB"), ("england", "GB"),
                        ("usa", "US"), ("united states of america", "US"),
                        ("deutschland", "DE"), ("holland", "NL"), ("the netherlands", "NL")):
        names[alias] = code
    return names


#: folded English country names and alpha-3 codes → alpha-2
COUNTRY_NAMES: dict[str, str] = _country_names()
