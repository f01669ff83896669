"""The pseudonymization key: where it comes from, that it is HMAC, that it never shows."""

from __future__ import annotations

import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.errors import ConfigError
from cscor_tools.minimize import HASH_KEY_ENV, HashKey, Pseudonymizer, resolve_hash_key


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.text(max_size=60))
def test_pseudonym_is_rfc2104_hmac_sha256(secret: bytes, value: str) -> None:
    expected = hmac.new(secret, value.encode("utf-8", "surrogatepass"), "sha256").hexdigest()
    assert Pseudonymizer(HashKey(secret, "test")).pseudonym(value) == expected[:32]


def test_env_key_overrides_the_stored_one() -> None:
    key = resolve_hash_key("stored" * 8, {HASH_KEY_ENV: "from-the-environment-0123456789"})
    assert key.secret == b"from-the-environment-0123456789"
    assert key.origin == f"env:{HASH_KEY_ENV}"
    stored = resolve_hash_key("stored" * 8, {})
    assert stored.secret == b"stored" * 8 and stored.origin == "workspace"


def test_short_env_key_and_missing_key_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=f"{HASH_KEY_ENV} is too short") as info:
        resolve_hash_key("stored" * 8, {HASH_KEY_ENV: "short"})
    assert "short" not in str(info.value).replace("too short", "")  # never the value
    with pytest.raises(ConfigError, match="no pseudonymization key"):
        resolve_hash_key(None, {})


def test_key_never_shows_in_repr_and_key_id_reveals_nothing() -> None:
    key = HashKey(b"super-secret-key-material-1234567890", "workspace")
    assert b"super-secret".decode() not in repr(key)
    assert len(key.key_id()) == 16
    assert key.key_id() == HashKey(key.secret, "elsewhere").key_id()
    assert key.key_id() != HashKey(b"another-secret-key-material-12345", "workspace").key_id()


def test_memo_is_bounded_and_does_not_change_results() -> None:
    pz = Pseudonymizer(HashKey(b"k" * 32, "test"), memo_size=8)
    values = [f"v{i % 20}" for i in range(100)]
    first = pz.pseudonyms(values)
    assert len(pz._memo) == 8
    assert pz.pseudonyms(values) == first
    assert len(pz._memo) == 8
    fresh = Pseudonymizer(HashKey(b"k" * 32, "test"), memo_size=8)
    distinct = [f"v{i}" for i in range(20)]
    assert fresh.pseudonyms(distinct, distinct=True) == [fresh.pseudonym(v) for v in distinct]
    assert len(fresh._memo) == 8 and fresh.pseudonyms(distinct[:3]) == first[:3]
