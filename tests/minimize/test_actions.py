"""Each minimization action over generated values: what it must and must never let through."""

from __future__ import annotations

import hmac
import ipaddress
import re
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.minimize import HashKey, Pseudonymizer
from cscor_tools.minimize.actions import (
    generalize_strings,
    generalize_timestamps,
    hash_array,
    mask_array,
    redact_array,
)

KEY = HashKey(b"k" * 32, origin="test")
PZ = Pseudonymizer(KEY)
maybe_text = st.one_of(st.none(), st.text(max_size=40))
texts = st.lists(maybe_text, max_size=30)
SETTINGS = settings(max_examples=60, deadline=None)


def reference_hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), "sha256").hexdigest()[:32]


@SETTINGS
@given(texts)
def test_hash_is_the_hmac_of_each_value(values: list[str | None]) -> None:
    out = hash_array(pa.array(values, pa.string()), PZ).to_pylist()
    assert out == [None if v is None else reference_hmac(KEY.secret, v) for v in values]
    unique = hash_array(pa.array(values, pa.string()), PZ, unique=True).to_pylist()
    assert unique == out


@SETTINGS
@given(st.emails(), st.sampled_from([str.upper, str.lower, str.title, lambda s: f"  {s} "]))
def test_email_pseudonyms_ignore_case_and_spaces(email: str, spell) -> None:  # type: ignore[no-untyped-def]
    a = hash_array(pa.array([email]), PZ, email=True).to_pylist()
    b = hash_array(pa.array([spell(email)]), PZ, email=True).to_pylist()
    assert a == b
    assert a[0] != email and email.lower() not in a[0]


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))))
def test_hash_of_integers_is_the_hash_of_their_text(values: list[int | None]) -> None:
    out = hash_array(pa.array(values, pa.int64()), PZ).to_pylist()
    assert out == [None if v is None else reference_hmac(KEY.secret, str(v)) for v in values]


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=4)), max_size=10),
       st.integers(min_value=0, max_value=5))
def test_hash_of_lists_hashes_each_element(values: list[list[str] | None], start: int) -> None:
    arr = pa.array(values, pa.list_(pa.string())).slice(min(start, len(values)))
    out = hash_array(arr, PZ).to_pylist()
    expect = [
        None if v is None else [reference_hmac(KEY.secret, s) for s in v]
        for v in values[min(start, len(values)):]
    ]
    assert out == expect


def test_different_keys_give_unrelated_pseudonyms() -> None:
    other = Pseudonymizer(HashKey(b"z" * 32, origin="test"))
    values = pa.array(["ann@example.com", "bob@example.com"])
    assert set(hash_array(values, PZ).to_pylist()).isdisjoint(hash_array(values, other).to_pylist())


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.emails()), max_size=20))
def test_email_mask_keeps_first_letter_and_domain(values: list[str | None]) -> None:
    out = mask_array(pa.array(values, pa.string()), "email").to_pylist()
    for original, masked in zip(values, out, strict=True):
        if original is None:
            assert masked is None
            continue
        local, domain = original.rsplit("@", 1)
        if "@" in local:  # a quoted local part holding @: not a plain address, fully masked
            assert masked == "***"
            continue
        assert masked == f"{local[0]}***@{domain}"


@SETTINGS
@given(texts)
def test_mask_never_passes_a_value_through(values: list[str | None]) -> None:
    arr = pa.array(values, pa.string())
    for style in ("email", "digits", "initial"):
        out = mask_array(arr, style, 4).to_pylist()
        for original, masked in zip(values, out, strict=True):
            assert (masked is None) == (original is None)
            if original is not None:
                assert "***" in masked
                assert masked != original or original.endswith("***")


@SETTINGS
@given(st.lists(st.from_regex(r"\+?[0-9 ()\-]{0,20}", fullmatch=True), max_size=20),
       st.integers(min_value=1, max_value=6))
def test_digit_mask_keeps_only_the_last_digits(values: list[str], keep: int) -> None:
    out = mask_array(pa.array(values, pa.string()), "digits", keep).to_pylist()
    for original, masked in zip(values, out, strict=True):
        digits = re.sub(r"\D", "", original)
        assert masked == ("***" + digits[-keep:] if len(digits) > keep else "***")


SENSITIVE = st.one_of(
    st.emails().map(lambda e: ("email", e)),
    st.from_regex(r"\+?[1-9][0-9]{0,2}[ .\-]?\(?[0-9]{3}\)?[ .\-]?[0-9]{3}[ .\-]?[0-9]{4}",
                  fullmatch=True).map(lambda p: ("phone", p)),
    st.from_regex(r"https?://[a-z0-9.\-]{1,20}\.[a-z]{2,5}(/[A-Za-z0-9_\-?=&]{0,20})?",
                  fullmatch=True).map(lambda u: ("url", u)),
    st.from_regex(r"4[0-9]{3}([ \-]?[0-9]{4}){3}", fullmatch=True).map(lambda c: ("card", c)),
)
WORDS = st.lists(st.from_regex(r"[A-Za-z]{1,10}[.,!?]?", fullmatch=True), max_size=6)


@SETTINGS
@given(st.lists(st.tuples(WORDS, SENSITIVE), min_size=1, max_size=4), WORDS)
def test_redact_removes_what_it_promises(parts: list, tail: list[str]) -> None:  # type: ignore[type-arg]
    text = " ".join(" ".join(words) + " " + value for words, (_, value) in parts)
    text += " " + " ".join(tail)
    out = redact_array(pa.array([text, None])).to_pylist()
    assert out[1] is None
    cleaned = out[0]
    for _, (_kind, value) in parts:
        assert value not in cleaned
    assert "@" not in cleaned.replace("[email]", "")
    assert not re.search(r"\d(?:[\s().\-]{0,2}\d){6,}", cleaned)
    assert "://" not in cleaned
    for words, _ in parts:  # ordinary words survive
        for w in words:
            assert w in cleaned


def test_redact_leaves_plain_text_alone() -> None:
    text = "Invoice 42 for March, thanks! Call me maybe."
    assert redact_array(pa.array([text])).to_pylist() == [text]


TIMES = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@SETTINGS
@given(st.lists(st.one_of(st.none(), TIMES), max_size=20),
       st.sampled_from(["day", "month", "year"]))
def test_generalized_timestamps_are_period_starts(values: list[datetime | None], to: str) -> None:
    arr = pa.array(values, pa.timestamp("us", tz="UTC"))
    out = generalize_timestamps(arr, to)
    assert out.type == arr.type
    for original, general in zip(values, out.to_pylist(), strict=True):
        if original is None:
            assert general is None
            continue
        start = original.replace(hour=0, minute=0, second=0, microsecond=0)
        if to in ("month", "year"):
            start = start.replace(day=1)
        if to == "year":
            start = start.replace(month=1)
        assert general == start


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.ip_addresses().map(str), st.text(max_size=5)),
                max_size=20))
def test_ips_generalize_to_their_network(values: list[str | None]) -> None:
    out = generalize_strings(pa.array(values, pa.string()), "network").to_pylist()
    for original, net in zip(values, out, strict=True):
        try:
            ip = ipaddress.ip_address(original or "")
        except ValueError:
            assert net is None  # not an address: nothing kept
            continue
        network = ipaddress.ip_network(net)
        assert ip in network
        assert network.prefixlen == (24 if ip.version == 4 else 48)


@SETTINGS
@given(texts, st.integers(min_value=1, max_value=5))
def test_prefix_generalization(values: list[str | None], length: int) -> None:
    out = generalize_strings(pa.array(values, pa.string()), "prefix", length).to_pylist()
    assert out == [None if v is None else v[:length] for v in values]


def test_country_is_already_general() -> None:
    arr = pa.array(["FR", None])
    assert generalize_strings(arr, None).equals(arr)


@pytest.mark.parametrize("style", ["email", "digits", "initial"])
def test_mask_of_empty_and_null(style: str) -> None:
    out = mask_array(pa.array(["", None], pa.string()), style)
    assert out.to_pylist()[1] is None
    assert pc.all(pc.match_substring(out.drop_null(), "***")).as_py()
