"""The minimization actions as vectorized functions over Arrow arrays (nulls stay null).

Each works on a whole column of a batch with Arrow compute kernels; the two that need Python
(HMAC pseudonyms, IP networks) run once per distinct value of the batch, not once per row.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cscor_tools.minimize.pseudonyms import Pseudonymizer

MASK = "***"

#: what redact looks for in free text, in order (RE2 syntax), and what it leaves in its place.
#: URLs go first because they may hold emails and digits; card numbers before phone numbers
#: because a card number would also pass for a long phone number. Erring on the side of
#: removing too much: a date written with seven digits or more is taken for a phone number.
REDACTIONS: tuple[tuple[str, str], ...] = (
    (r"(?i)\b(?:[a-z][a-z0-9+.\-]*://|www\.)\S+", "[url]"),
    (r"\S+@\S+", "[email]"),
    (r"(?:\d[ \-]?){12,18}\d", "[card]"),
    (r"\+?\(?\d(?:[\s().\-]{0,2}\d){6,}", "[phone]"),
)


def map_distinct(arr: pa.Array, fn: Callable[[list[Any]], Sequence[Any]]) -> pa.Array:
    """``fn`` applied to the distinct values of ``arr`` only, then spread back over its rows."""
    encoded = pc.dictionary_encode(arr)
    mapped = pa.array(fn(encoded.dictionary.to_pylist()), pa.string())
    return pc.take(mapped, encoded.indices)


def hash_array(
    arr: pa.Array, pseudonymizer: Pseudonymizer, *, email: bool = False, unique: bool = False
) -> pa.Array:
    """HMAC pseudonyms of strings, integers (their decimal text) or lists of strings.

    ``email``: lower-cased and trimmed first, so one address spelled two ways is one person.
    ``unique``: the values are known distinct (a primary key): skip the de-duplication.
    Pseudonyms are remembered by ``pseudonymizer`` either way, for values that come back.
    """
    if pa.types.is_list(arr.type):
        values = hash_array(arr.flatten(), pseudonymizer)
        offsets = pc.subtract(arr.offsets, arr.offsets[0])
        return pa.ListArray.from_arrays(offsets, values, mask=arr.is_null())
    if pa.types.is_integer(arr.type):
        arr = pc.cast(arr, pa.string())
    if email:
        arr = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    if unique:
        return pa.array(pseudonymizer.pseudonyms(arr.to_pylist(), distinct=True), pa.string())
    return map_distinct(arr, pseudonymizer.pseudonyms)


def mask_array(arr: pa.Array, style: str, keep: int = 4) -> pa.Array:
    """Masked strings: ``email`` a***@example.com, ``digits`` ***1234, ``initial`` J***.

    A value the style cannot read (an "email" without @, a phone with too few digits to hide
    any) becomes ``***`` rather than passing through unmasked.
    """
    if style == "email":
        shaped = pc.match_substring_regex(arr, r"^[^@]+@[^@]+$")
        masked = pc.replace_substring_regex(arr, r"^(.)[^@]*(@.*)$", r"\1" + MASK + r"\2")
        return pc.if_else(shaped, masked, pa.scalar(MASK))
    if style == "digits":
        digits = pc.replace_substring_regex(arr, r"[^0-9]", "")
        last = pc.utf8_slice_codeunits(digits, start=-keep)
        enough = pc.greater(pc.utf8_length(digits), keep)
        return pc.if_else(enough, pc.binary_join_element_wise(MASK, last, ""), pa.scalar(MASK))
    first = pc.utf8_slice_codeunits(arr, 0, 1)
    return pc.binary_join_element_wise(first, MASK, "")


def redact_array(arr: pa.Array) -> pa.Array:
    """Free text with emails, phone numbers, URLs and card-like numbers replaced by markers."""
    for pattern, marker in REDACTIONS:
        arr = pc.replace_substring_regex(arr, pattern, marker)
    return arr


def generalize_timestamps(arr: pa.Array, to: str = "month") -> pa.Array:
    """Timestamps truncated to the start of their UTC day, month or year (still timestamps)."""
    return pc.floor_temporal(arr, unit=to)


def generalize_strings(arr: pa.Array, to: str | None, length: int | None = None) -> pa.Array:
    """IP addresses to their network (IPv4 /24, IPv6 /48), or strings to a prefix."""
    if to == "network":
        return map_distinct(arr, _networks)
    if to == "prefix":
        return pc.utf8_slice_codeunits(arr, 0, length or 1)
    return arr  # a country is already as coarse as generalization goes


def _networks(values: list[str | None]) -> list[str | None]:
    out: list[str | None] = []
    for v in values:
        try:
            ip = ipaddress.ip_address((v or "").strip())
        except ValueError:
            out.append(None)  # not an address: nothing safe to keep
            continue
        prefix = 24 if ip.version == 4 else 48
        out.append(str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False)))
    return out
