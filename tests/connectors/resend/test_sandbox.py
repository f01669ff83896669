"""The Resend connector against the sandbox's Resend: complete, incremental, resumable, and
polite with the team's rate limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cscor_tools.config import Config, ConnectorConfig
from cscor_tools.connectors.resend.client import team_rate
from cscor_tools.sandbox import Sandbox
from cscor_tools.schema import make_id
from cscor_tools.store import Store, open_store
from cscor_tools.sync import SyncResult
from cscor_tools.workspace import sync_connector

FAST = 1000.0


class Crash(BaseException):
    """A kill, as seen from inside the process."""


class Wrapped(httpx.BaseTransport):
    def __init__(self, hook: Callable[[httpx.Request], None] | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.hook = hook
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.hook is not None:
            self.hook(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "w.db") as s:
        yield s


def run(sb: Sandbox, store: Store, *, key: str | None = None, rate: float | None = FAST,
        transport: httpx.BaseTransport | None = None, options: dict[str, Any] | None = None,
        **kw: Any) -> SyncResult:
    config = Config(connectors={"resend": ConnectorConfig(options=options or {})})
    return sync_connector("resend", store=store, base_url=sb.base_url("resend"),
                          env={"RESEND_API_KEY": key or sb.credentials("resend")},
                          rate_limit=rate, transport=transport, config=config, **kw)


def live(store: Store, entity: str, **where: Any) -> list[dict[str, Any]]:
    out = []
    for batch in store.iter_rows(entity):
        out += [r for r in batch if not r["deleted"] and r["source"] == "resend"
                and all(r.get(k) == v for k, v in where.items())]
    return out


def test_a_full_sync_holds_what_the_sandbox_holds(store: Store) -> None:
    with Sandbox(seed=3, scale=0.5) as sb:
        result = run(sb, store)
        expected = sb.expected_counts()
        world = sb.world.resend
    assert result.status == "succeeded", result
    assert len(live(store, "notifications", direction="outbound")) == expected["resend.emails"]
    assert len(live(store, "notifications", direction="inbound")) == \
        expected["resend.received_emails"]
    contacts = {r["source_id"]: r for r in live(store, "contacts")}
    assert len(contacts) == expected["resend.contacts"]
    assert len(live(store, "campaigns")) == expected["resend.broadcasts"]
    assert len(live(store, "campaign_recipients")) == expected["resend.broadcast_recipients"]
    assert len(live(store, "integrations")) == expected["resend.domains"]
    names = {s.id: s.name for s in world.segments}
    topics = {t.id: t for t in world.topics}
    for c in world.contacts:
        row = contacts[c.id]
        assert row["segments"] == sorted(names[s] for s in c.segments)
        opted = sorted(t.name for t in topics.values()
                       if c.topics.get(t.id, t.default_subscription) == "opt_in")
        assert row["topics"] == opted and row["unsubscribed"] == c.unsubscribed
    for e in list(world.emails)[:50]:
        stored = live(store, "notifications", source_id=e.id)[0]
        assert stored["status"] == e.last_event and stored["recipient"] == ", ".join(e.to)


def test_incremental_after_mutations_reflects_new_changed_and_deleted(store: Store) -> None:
    with Sandbox(seed=4, scale=0.5) as sb:
        run(sb, store)
        summary = sb.mutate(create=0.03, update=0.1, delete=0.03)
        world = sb.world.resend
        newest = max(e.created for e in world.emails)
        window = 7 * 86_400 * 1_000_000
        in_window = {i for i, _ in summary.last_events.items()
                     if world.emails.get(i).created >= newest - window}  # type: ignore[union-attr]
        between = run(sb, store)  # within a day of the complete listing: new contacts only
        assert {r["source_id"] for r in live(store, "contacts")} >= set(
            summary.created["resend.contact"])
        deleted = summary.deleted["resend.contact"]
        assert all(r["source_id"] not in deleted for r in live(store, "contacts")) is False
        assert between.requests["requests"] < store.runs(2)[1].counts["requests"]["requests"] / 4
        second = run(sb, store, options={"contacts_reconcile_hours": 0})
        expected = sb.expected_counts()
    assert second.status == "succeeded", second
    assert len(live(store, "notifications", direction="outbound")) == expected["resend.emails"]
    for email_id in summary.created["resend.email"]:
        assert live(store, "notifications", source_id=email_id)
    for email_id, (_, now) in summary.last_events.items():
        if email_id in in_window:
            assert live(store, "notifications", source_id=email_id)[0]["status"] == now
    for contact_id in summary.deleted["resend.contact"]:
        rows = store.get_rows("contacts", [make_id("contacts", "resend", contact_id)])
        assert next(iter(rows.values()))["deleted"] is True
    assert len(live(store, "contacts")) == expected["resend.contacts"]
    counted = store.runs(2)[1].details["emails"]["status_changes"]
    assert in_window and counted == len(in_window)


def test_an_interrupted_first_sync_finishes_the_older_remainder_next_run(store: Store) -> None:
    with Sandbox(seed=6, scale=0.5) as sb:
        pages = {"n": 0}

        def kill_on_third_page(request: httpx.Request) -> None:
            if request.url.path == "/emails":
                pages["n"] += 1
                if pages["n"] == 3:
                    raise Crash("killed")

        first = run(sb, store, transport=Wrapped(kill_on_third_page), streams=("emails",))
        assert first.status == "failed"
        half = len(live(store, "notifications"))
        assert 0 < half < sb.expected_counts()["resend.emails"]
        summary = sb.mutate(counts={"resend.emails": {"create": 5}})
        second = run(sb, store, streams=("emails",))
        assert second.status == "succeeded", second
        ids = set(sb.expected_ids("resend.emails"))
    assert {r["source_id"] for r in live(store, "notifications")} == ids
    assert set(summary.created["resend.email"]) <= ids
    cursor = store.load_state("resend", "emails").cursor
    assert cursor and cursor["complete"] is True


def test_a_429_is_waited_out_as_retry_after_says(store: Store) -> None:
    with Sandbox(seed=2, scale=0.1, fault_rate=0.08, faults="429") as sb:
        result = run(sb, store, concurrency=1)
        expected = sb.expected_counts()
        refused = sb.stats()["resend"]["faults"].get("429", 0)
    assert result.status == "succeeded", result
    assert refused > 0 and result.requests["rate_limited"] == refused
    # every 429 said retry-after: 1, and the one reader waited each out before going on
    assert result.duration_s >= 0.9 * refused
    assert len(live(store, "notifications", direction="outbound")) == expected["resend.emails"]


def test_the_default_takes_half_of_the_limit_the_team_states(store: Store) -> None:
    with Sandbox(seed=2, scale=0.1, rate_limit={"resend": 20.0}) as sb:
        result = run(sb, store, rate=None)
        refused = sb.stats()["resend"]["rate_limited"]
        details = store.runs(1)[0].details
    assert result.status == "succeeded", result
    assert details["share"] == 0.5 and details["team_rate_per_s"] == 20.0
    assert refused == 0


def test_a_missing_key_is_a_401_naming_provider_and_variable(store: Store) -> None:
    def without_key(request: httpx.Request) -> None:
        del request.headers["authorization"]

    with Sandbox(seed=2, scale=0.1) as sb:
        result = run(sb, store, transport=Wrapped(without_key))
    assert int(result.exit_code) == 4
    errors = " ".join(s.error or "" for s in result.streams)
    assert "Resend" in errors and "RESEND_API_KEY" in errors and "HTTP 401" in errors


def test_every_request_carries_a_user_agent(store: Store) -> None:
    transport = Wrapped()
    with Sandbox(seed=2, scale=0.1) as sb:
        result = run(sb, store, transport=transport)
    assert result.status == "succeeded"
    assert transport.seen
    assert all(r.headers.get("user-agent", "").startswith("cscor-tools/")
               for r in transport.seen)


def test_the_team_rate_is_read_from_the_headers() -> None:
    assert team_rate(httpx.Headers({"ratelimit-limit": "2"})) == 2.0
    assert team_rate(httpx.Headers({"ratelimit-limit": "10",
                                    "ratelimit-policy": "10;w=2"})) == 5.0
    assert team_rate(httpx.Headers({"ratelimit-limit": "many"})) is None
    assert team_rate(httpx.Headers({})) is None


def test_between_complete_listings_only_new_contacts_are_read(store: Store) -> None:
    with Sandbox(seed=8, scale=0.5) as sb:
        run(sb, store)
        world = sb.world.resend
        newest = next(iter(world.contacts))
        with world_lock(sb):
            world.delete_contact(newest)  # the contact the next run would stop at is gone
        summary = sb.mutate(counts={"resend.contacts": {"create": 3}})
        transport = Wrapped()
        result = run(sb, store, transport=transport, streams=("contacts",))
    assert result.status == "succeeded", result
    assert [r.url.path for r in transport.seen] == ["/contacts"]  # one page, no segments
    held = {r["source_id"] for r in live(store, "contacts")}
    assert set(summary.created["resend.contact"]) <= held
    assert newest.id in held  # seen deleted only by the next complete listing


def world_lock(sb: Sandbox) -> Any:
    return sb.world.lock
