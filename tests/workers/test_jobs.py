"""What a queued sync is: its arguments hold no secret, its errors sort into retried or not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cscor_tools.connectors.base import Secret
from cscor_tools.errors import (
    AuthenticationError,
    ConfigError,
    StoreError,
    UnavailableError,
    WorkspaceLockedError,
)
from cscor_tools.workers import SyncJob, account_key, is_retried

WS = "postgresql://cscor@db.example:5432/acme"


def test_a_workspace_url_with_a_password_is_refused_and_not_repeated() -> None:
    with pytest.raises(ConfigError) as err:
        SyncJob("postgresql://cscor:hunter2@db/acme", "stripe")
    assert "hunter2" not in str(err.value)
    assert "PGPASSWORD" in str(err.value)


@pytest.mark.parametrize("where", ["workspace.db", "sqlite:///tmp/w.db"])
def test_a_sqlite_workspace_cannot_be_queued(where: str) -> None:
    with pytest.raises(ConfigError, match="PostgreSQL workspace"):
        SyncJob(where, "stripe")


@given(
    full=st.booleans(),
    streams=st.lists(st.sampled_from(["customers", "invoices", "charges"]), unique=True),
    credential_env=st.none() | st.from_regex(r"[A-Z][A-Z_]{0,20}", fullmatch=True),
    rate=st.none() | st.floats(min_value=0.1, max_value=1000),
    account=st.none() | st.text(min_size=1, max_size=10),
    attempts=st.integers(1, 20),
    backoff=st.floats(min_value=0, max_value=600),
)
def test_arguments_round_trip_through_the_queue(
    full: bool, streams: list[str], credential_env: str | None, rate: float | None,
    account: str | None, attempts: int, backoff: float,
) -> None:
    import json

    job = SyncJob(WS, "stripe", full=full, streams=tuple(streams), credential_env=credential_env,
                  rate_limit=rate, account=account, attempts=attempts, backoff=backoff)
    stored = json.loads(json.dumps(job.as_kwargs()))
    assert SyncJob.from_kwargs(stored) == job


def test_one_lock_per_workspace_and_connector() -> None:
    assert SyncJob(WS, "stripe").lock == SyncJob(WS, "stripe", full=True).lock
    assert SyncJob(WS, "stripe").lock != SyncJob(WS, "resend").lock
    assert SyncJob(WS, "stripe").lock != SyncJob(WS + "2", "stripe").lock


def test_backoff_doubles_and_stops_at_an_hour() -> None:
    job = SyncJob(WS, "stripe", backoff=10)
    assert [job.backoff_after(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert job.backoff_after(30) == 3600


@pytest.mark.parametrize(("exc", "retried"), [
    (UnavailableError("Stripe", "server error"), True),
    (WorkspaceLockedError("ws", "sync:stripe"), True),
    (StoreError("ws: connection lost"), True),
    (RuntimeError("a bug, or a driver error we did not map"), True),
    (AuthenticationError("Stripe", "STRIPE_API_KEY"), False),
    (ConfigError("no credential"), False),
])
def test_what_is_retried(exc: BaseException, retried: bool) -> None:
    assert is_retried(exc) is retried


def test_an_account_key_never_holds_the_credential() -> None:
    key = account_key("stripe", Secret("sk_live_FAKE.abcdefghijklmnop"))
    assert "abcdefghijklmnop" not in key and key.startswith("stripe:key-")
    assert key == account_key("stripe", Secret("sk_live_FAKE.abcdefghijklmnop"))
    assert key != account_key("stripe", Secret("sk_live_FAKE.other"))
    assert account_key("stripe", Secret("x"), "acme") == "stripe:acme"
