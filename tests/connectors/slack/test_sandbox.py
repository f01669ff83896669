"""The Slack connector against the sandbox: complete, incremental, frugal with replies, honest
about errors, and paced to each method's budget (the non-Marketplace one included)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from cscor_tools.connectors.slack.pacing import NON_MARKETPLACE_PAGE, Budget
from cscor_tools.sandbox import Sandbox
from cscor_tools.sandbox.clock import US, slack_ts
from cscor_tools.sandbox.slack_data import DAY_US, Channel, Message, free_ts
from cscor_tools.schema import make_id
from cscor_tools.store import Store

from .conftest import Counting, rows, run


def _expected_messages(sb: Sandbox) -> set[str]:
    with sb.world.lock:
        return {f"{c.id}/{slack_ts(ts)}" for c in sb.world.slack.channels if c.is_member
                for ts in c.by_ts}


def _expected_by_admin(sb: Sandbox, store: Store) -> set[str]:
    """The same, from a sandbox in another process (membership as the channels rows say)."""
    members = {k for k, r in rows(store, "channels").items() if r["is_member"]}
    return {k for k in sb.expected_ids("slack.messages") if k.split("/")[0] in members}


def _live(store: Store, entity: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in rows(store, entity).items() if not r["deleted"]}


def _answer(body: dict[str, Any], status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"content-type": "application/json", **headers})


@pytest.fixture
def sb() -> Any:
    with Sandbox(seed=3, scale=0.3) as sandbox:
        yield sandbox
        assert not sandbox.internal_errors, sandbox.internal_errors[0]


def test_a_full_sync_equals_the_sandbox(sb: Sandbox, store: Store) -> None:
    with sb.world.lock:  # a member who left, whatever the seed drew
        sb.world.slack.users[3].deleted = True
    result, _ = run(store, sb)
    assert result.status == "succeeded", result
    assert set(_live(store, "notifications")) == _expected_messages(sb)
    data = sb.world.slack
    assert set(rows(store, "contacts")) == {u.id for u in data.users}
    visible = {c.id for c in data.channels if c.is_member or not c.is_private}
    assert set(rows(store, "channels")) == visible
    assert len(rows(store, "integrations")) == 1
    outside = [c for c in data.channels if not c.is_member]
    messages = next(s for s in result.streams if s.stream == "messages")
    assert all(any(c.id in w and "not a member" in w for w in messages.warnings)
               for c in outside)

    contacts = rows(store, "contacts")
    bot = data.bot_user
    assert bot is not None and contacts[bot.id]["is_bot"] and not contacts[bot.id]["email"]
    gone = [u for u in data.users if u.deleted]
    assert gone and all(contacts[u.id]["deactivated"] for u in gone)
    guests = [u for u in data.users if u.is_restricted]
    assert guests and all(contacts[u.id]["guest"] for u in guests)
    person = next(u for u in data.users if u.person and not u.is_bot)
    assert person.person is not None and contacts[person.id]["email"] == person.person.email

    notes = rows(store, "notifications")
    channel = next(c for c in data.channels if c.is_member and any(m.replies for m in c.messages))
    parent = next(m for m in channel.messages if m.replies)
    row = notes[f"{channel.id}/{slack_ts(parent.ts)}"]
    assert row["reply_count"] == len(parent.replies) and row["thread_id"] == slack_ts(parent.ts)
    reply = notes[f"{channel.id}/{slack_ts(parent.replies[0].ts)}"]
    assert reply["thread_id"] == slack_ts(parent.ts) and reply["reply_count"] is None
    assert reply["conversation_id"] == make_id("channels", "slack", channel.id)
    assert reply["contact_id"] == make_id("contacts", "slack", parent.replies[0].user)
    bots = [r for r in notes.values() if r["subtype"] == "bot_message"]
    assert bots and all(r["sender_bot"] and r["contact_id"] is None for r in bots)
    assert any(r["edited_at"] is not None and r["status"] == "edited" for r in notes.values())


def _window(channel: Channel, days: float = 6) -> list[Message]:
    newest = channel.messages[-1].ts
    return [m for m in channel.messages if m.ts > newest - int(days * DAY_US)]


def _busiest(sb: Sandbox) -> Channel:
    members = [c for c in sb.world.slack.channels if c.is_member and not c.is_archived
               and c.name != "billing-alerts"]
    return max(members, key=lambda c: len(_window(c)))


def test_edits_and_deletions_within_the_lookback_are_seen(sb: Sandbox, store: Store) -> None:
    run(store, sb)
    channel = _busiest(sb)
    with sb.world.lock:
        recent = [m for m in _window(channel) if m.user and not m.subtype]
        edited, deleted = recent[0], next(m for m in recent[1:] if not m.replies)
        edited.text, edited.edited = "Renamed the invoice, see thread", (edited.user,
                                                                          sb.world.clock.now_us)
        channel.remove(deleted)
        old = next(m for m in channel.messages if m.user and not m.subtype
                   and m.ts < channel.messages[-1].ts - 30 * DAY_US)
        old.text = "an edit far outside the lookback"
    result, _ = run(store, sb)
    assert result.status == "succeeded", result
    notes = rows(store, "notifications")
    now = notes[f"{channel.id}/{slack_ts(edited.ts)}"]
    assert now["body"] == "Renamed the invoice, see thread" and now["status"] == "edited"
    assert now["edited_at"] is not None and not now["deleted"]
    gone = notes[f"{channel.id}/{slack_ts(deleted.ts)}"]
    assert gone["deleted"] and "lookback" in gone["deleted_reason"]
    # beyond the lookback nothing is read again: that edit waits for a --full run
    assert notes[f"{channel.id}/{slack_ts(old.ts)}"]["body"] != old.text
    run(store, sb, full=True)
    assert rows(store, "notifications")[f"{channel.id}/{slack_ts(old.ts)}"]["body"] == old.text
    assert set(_live(store, "notifications")) == _expected_messages(sb)


def test_replies_are_read_only_for_threads_that_changed(sb: Sandbox, store: Store) -> None:
    first = Counting()
    run(store, sb, transport=first)
    threads = sum(1 for c in sb.world.slack.channels if c.is_member for m in c.messages
                  if m.replies)
    assert first.calls["conversations.replies"] == threads

    quiet = Counting()
    run(store, sb, transport=quiet)
    assert quiet.calls["conversations.replies"] == 0
    assert quiet.calls["conversations.history"] >= 1

    channel = _busiest(sb)
    with sb.world.lock:
        parents = [m for m in _window(channel, days=5) if m.replies]
        if not parents:  # make a thread within the lookback
            parent = [m for m in _window(channel) if m.user and not m.subtype][-1]
        else:
            parent = parents[0]
        ts = free_ts(channel, sb.world.clock.now_us)
        reply = Message(ts, "following up on this", user=parent.user, thread_ts=parent.ts,
                        parent_user=parent.user)
        channel.add(reply)
        removed = parent.replies[0] if len(parent.replies) > 1 else None
        if removed is not None:
            channel.remove(removed)
    changed = Counting()
    result, _ = run(store, sb, transport=changed)
    assert result.status == "succeeded", result
    assert changed.calls["conversations.replies"] == 1
    notes = rows(store, "notifications")
    assert not notes[f"{channel.id}/{slack_ts(reply.ts)}"]["deleted"]
    assert notes[f"{channel.id}/{slack_ts(parent.ts)}"]["reply_count"] == len(parent.replies)
    if removed is not None:
        assert notes[f"{channel.id}/{slack_ts(removed.ts)}"]["deleted"]
    assert set(_live(store, "notifications")) == _expected_messages(sb)


def test_missing_scopes_are_named(sb: Sandbox, store: Store) -> None:
    sb.configure(slack_missing_scopes=["channels:history", "users:read.email"])
    result, _ = run(store, sb)
    assert result.status == "partial" and int(result.exit_code) == 11
    by_name = {s.stream: s for s in result.streams}
    failed = by_name["messages"]
    assert failed.status == "failed" and failed.error_code == 4
    assert "conversations.history" in (failed.error or "")
    assert "missing_scope" in (failed.error or "") and "channels:history" in (failed.error or "")
    users = by_name["users"]
    assert users.status == "ok" and any("users:read.email" in w for w in users.warnings)
    assert not any(r["email"] for r in rows(store, "contacts").values())


def test_not_in_channel_fails_that_channel_only(sb: Sandbox, store: Store) -> None:
    target = next(c for c in sb.world.slack.channels if c.is_member and c.messages)

    def refuse(request: httpx.Request, method: str, n: int) -> httpx.Response | None:
        if method == "conversations.history" and request.url.params.get("channel") == target.id:
            return _answer({"ok": False, "error": "not_in_channel"})
        return None

    result, _ = run(store, sb, transport=Counting(refuse))
    assert result.status == "succeeded", result
    messages = {s.stream: s for s in result.streams}["messages"]
    assert any(target.id in w and "not_in_channel" in w for w in messages.warnings)
    got = {k.split("/")[0] for k in _live(store, "notifications")}
    assert target.id not in got
    others = {c.id for c in sb.world.slack.channels if c.is_member and c.messages} - {target.id}
    assert others <= got


@pytest.mark.parametrize(("body", "code", "words"), [
    ({"ok": False, "error": "team_added_to_org"}, 6, ["users.list", "team_added_to_org"]),
    ({"ok": False, "error": "invalid_auth"}, 4, ["users.list", "invalid_auth",
                                                "SLACK_BOT_TOKEN"]),
    ({"ok": False}, 6, ["users.list", "no error code"]),
    ({"members": []}, 5, ["users.list", "'ok'"]),
])
def test_ok_false_is_always_an_error(sb: Sandbox, store: Store, body: dict[str, Any], code: int,
                                     words: list[str]) -> None:
    def answer(request: httpx.Request, method: str, n: int) -> httpx.Response | None:
        return _answer(body) if method == "users.list" else None

    result, _ = run(store, sb, transport=Counting(answer))
    users = {s.stream: s for s in result.streams}["users"]
    assert users.status == "failed" and users.error_code == code, users
    assert all(w in (users.error or "") for w in words), users.error
    assert not rows(store, "contacts")


def test_a_429_holds_back_its_method_for_retry_after(sb: Sandbox, store: Store) -> None:
    def limit(request: httpx.Request, method: str, n: int) -> httpx.Response | None:
        if method == "conversations.history" and n == 2:
            return _answer({"ok": False, "error": "ratelimited"}, 429, **{"Retry-After": "1"})
        return None

    started = time.monotonic()
    result, c = run(store, sb, transport=Counting(limit))
    assert result.status == "succeeded", result
    assert time.monotonic() - started >= 1.0
    assert result.requests["rate_limited"] == 1 and result.requests["rate_cuts"] == 0
    pacers = c.pacing.report()["methods"]
    assert pacers["conversations.history"]["rate_limited"] == 1
    assert all(p["rate_limited"] == 0 for m, p in pacers.items()
               if m != "conversations.history")
    assert c.pacing.budget is Budget.MARKETPLACE  # pages of more than 15 said so
    assert set(_live(store, "notifications")) == _expected_messages(sb)


#: time compression of the non-Marketplace test: a Slack minute lasts 0.5 s, so a call may
#: come 50 ms early before the sandbox refuses it: more than a loaded machine's jitter
NM_FAST = 120.0


def test_the_non_marketplace_budget_is_detected_and_paced(store: Store) -> None:
    # in a process of its own: a server sharing our GIL would add jitter the compressed
    # minute (0.1 s) cannot absorb
    with Sandbox(seed=4, scale=0.1, slack_non_marketplace=True, process=True) as sb:
        sb.configure(slack_tier_scale=NM_FAST, slack_non_marketplace=True)
        seen = Counting()
        result, c = run(store, sb, transport=seen, scale=NM_FAST)
        assert result.status == "succeeded", result
        assert sb.stats()["slack"]["rate_limited"] == 0 and result.requests["rate_limited"] == 0
        assert c.pacing.budget is Budget.NON_MARKETPLACE
        history = [p for m, p in seen.params if m in ("conversations.history",
                                                      "conversations.replies")]
        # more than 15 asked for until a page shows 15 is all there is, then 15 a call
        limits = [p["limit"] for p in history]
        told = limits.index(str(NON_MARKETPLACE_PAGE))
        assert 1 <= told < len(limits) / 4 and set(limits[:told]) == {"200"}
        assert set(limits[told:]) == {str(NON_MARKETPLACE_PAGE)}
        messages = {s.stream: s for s in result.streams}["messages"]
        assert any("outside the Marketplace" in w for w in messages.warnings)
        # one call a Slack minute: Tier 1 here is NM_FAST calls a minute, 2 a second
        pacer = c.pacing.pacers["conversations.history"]
        assert pacer.budget_per_s == pytest.approx(NM_FAST / 60)
        assert set(_live(store, "notifications")) == _expected_by_admin(sb, store)
        # with the last run's counts, a full rescan knows its length from the start; the
        # next run comes a Slack minute later (the first run spent this minute's call)
        time.sleep(60 / NM_FAST)
        started = time.monotonic()
        again, c2 = run(store, sb, full=True, scale=NM_FAST)
        took = time.monotonic() - started
        assert again.status == "succeeded" and again.requests["rate_limited"] == 0
        told = [r for r in c2.pacing.eta_reports if r.remaining_s > 0]
        assert told and told[0].remaining_s == pytest.approx(took, rel=0.5)


def test_clients_are_linked_by_channel_and_by_member(sb: Sandbox, store: Store) -> None:
    data = sb.world.slack
    channel = next(c for c in data.channels if c.is_member and c.name == "sales")
    author = next(m.user for c in data.channels if c.is_member and c is not channel
                  for m in c.messages if m.user)
    run(store, sb, channel_clients={channel.id: "stripe:cus_A1"},
        user_clients={author: "stripe:cus_B2"})
    a, b = make_id("clients", "stripe", "cus_A1"), make_id("clients", "stripe", "cus_B2")
    notes = _live(store, "notifications")
    assert all(r["client_id"] == a for k, r in notes.items() if k.startswith(channel.id))
    assert any(r["client_id"] == b and r["sender"] == author for r in notes.values())
    assert rows(store, "channels")[channel.id]["client_id"] == a
    assert rows(store, "contacts")[author]["client_id"] == b


def test_direct_messages_only_when_asked(sb: Sandbox, store: Store) -> None:
    plain, dms = Counting(), Counting()
    run(store, sb, transport=plain)
    run(store, sb, transport=dms, include_dms=True)
    types = {p["types"] for m, p in plain.params if m == "conversations.list"}
    assert types == {"public_channel,private_channel"}
    assert {p["types"] for m, p in dms.params if m == "conversations.list"} == {
        "public_channel,private_channel,mpim,im"}


def test_time_is_compressed_by_the_configured_rate(sb: Sandbox) -> None:
    from .conftest import connector

    with connector(sb, scale=24) as c:
        assert c.pacing.pacers["team.info"].budget_per_s == pytest.approx(20.0)
        assert c.pacing.pacers["users.list"].budget_per_s == pytest.approx(8.0)
    assert US == 1_000_000
