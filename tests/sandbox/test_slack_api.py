"""Slack's Web API methods answer with the spec's schemas, Slack's token rules and errors,
cursors that reach every object once, threads, bots and edits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cscor_tools.sandbox import Sandbox

from .conftest import client_for
from .specs import slack_problems


def _call(http: httpx.Client, method: str, post: bool = True, **args: Any) -> httpx.Response:
    if post:  # as slack_sdk's WebClient does: a form body
        return http.post(method, data=args)
    return http.get(method, params=args)


def _member_channels(http: httpx.Client) -> list[dict[str, Any]]:
    channels = _call(http, "conversations.list", limit=100).json()["channels"]
    return [c for c in channels if c["is_member"]]


@pytest.mark.parametrize("post", [True, False], ids=["form-post", "get-query"])
def test_methods_match_the_spec(slack_http: httpx.Client, post: bool) -> None:
    for method, args in (("auth.test", {}), ("team.info", {}), ("users.list", {"limit": 5}),
                         ("conversations.list", {"limit": 3})):
        response = _call(slack_http, method, post, **args)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert slack_problems(response.json(), method) == [], method
    for channel in _member_channels(slack_http):
        history = _call(slack_http, "conversations.history", post, channel=channel["id"],
                        limit=50).json()
        assert slack_problems(history, "conversations.history") == [], channel["name"]
        parents = [m for m in history["messages"] if m.get("reply_count")]
        for parent in parents[:3]:
            replies = _call(slack_http, "conversations.replies", post, channel=channel["id"],
                            ts=parent["ts"]).json()
            assert slack_problems(replies, "conversations.replies") == []
            assert replies["messages"][0]["ts"] == parent["ts"]
            assert len(replies["messages"]) == parent["reply_count"] + 1


def test_messages_include_bots_threads_and_edits(sandbox: Sandbox,
                                                 slack_http: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []
    for channel in _member_channels(slack_http):
        seen += _call(slack_http, "conversations.history", channel=channel["id"],
                      limit=999).json()["messages"]
    assert any(m.get("subtype") == "bot_message" and m["bot_id"].startswith("B") for m in seen)
    assert any(m.get("reply_count", 0) > 0 and m["thread_ts"] == m["ts"] for m in seen)
    assert any("edited" in m for m in seen)
    assert all("parent_user_id" not in m for m in seen)  # history shows no thread replies


def test_cursors_reach_every_message_once(sandbox: Sandbox, slack_http: httpx.Client) -> None:
    for channel in _member_channels(slack_http):
        stamps: list[str] = []
        cursor = ""
        while True:
            page = _call(slack_http, "conversations.history", channel=channel["id"], limit=7,
                         cursor=cursor).json()
            stamps += [m["ts"] for m in page["messages"]]
            cursor = page.get("response_metadata", {}).get("next_cursor", "")
            assert page["has_more"] == bool(cursor)
            if not cursor:
                break
        everything = _call(slack_http, "conversations.history", channel=channel["id"],
                           limit=999).json()["messages"]
        assert stamps == [m["ts"] for m in everything]
        assert stamps == sorted(stamps, key=float, reverse=True)
        assert len(set(stamps)) == len(stamps)
    users, cursor = [], ""
    while True:
        page = _call(slack_http, "users.list", limit=4, cursor=cursor).json()
        users += [u["id"] for u in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert users == sandbox.expected_ids("slack.users")


def test_oldest_latest_and_inclusive(slack_http: httpx.Client) -> None:
    channel = _member_channels(slack_http)[0]["id"]
    stamps = [m["ts"] for m in _call(slack_http, "conversations.history", channel=channel,
                                     limit=999).json()["messages"]]
    newest, older = stamps[0], stamps[2]
    window = _call(slack_http, "conversations.history", channel=channel, oldest=older,
                   latest=newest).json()["messages"]
    assert [m["ts"] for m in window] == stamps[1:2]
    inclusive = _call(slack_http, "conversations.history", channel=channel, oldest=older,
                      latest=newest, inclusive="true").json()["messages"]
    assert [m["ts"] for m in inclusive] == stamps[0:3]


ERRORS = [
    # (method, args, headers, error)
    ("auth.test", {}, {"Authorization": ""}, "not_authed"),
    ("auth.test", {}, {"Authorization": "Bearer xoxb-nope"}, "invalid_auth"),
    ("conversations.history", {"channel": "C0000000000"}, {}, "channel_not_found"),
    ("conversations.history", {"channel": "", "cursor": "bad"}, {}, "channel_not_found"),
    ("users.list", {"cursor": "bm9wZQ=="}, {}, "invalid_cursor"),
]


@pytest.mark.parametrize(("method", "args", "headers", "error"), ERRORS)
def test_errors_are_ok_false(slack_http: httpx.Client, method: str, args: dict[str, str],
                             headers: dict[str, str], error: str) -> None:
    response = slack_http.post(method, data=args, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": error}
    assert slack_problems(response.json(), method, "default") == []


def test_token_as_an_argument_and_not_in_channel(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url("slack")) as http:
        ok = http.post("auth.test", data={"token": sandbox.credentials("slack")}).json()
        assert ok["ok"] is True and ok["bot_id"].startswith("B")
        channels = http.post("conversations.list", data={"token": sandbox.credentials("slack")})
        outside = next(c for c in channels.json()["channels"] if not c["is_member"])
        refused = http.post("conversations.history", data={
            "token": sandbox.credentials("slack"), "channel": outside["id"]}).json()
        assert refused == {"ok": False, "error": "not_in_channel"}
        assert slack_problems(refused, "conversations.history", "default") == []
        unknown = http.post("chat.postMessage", data={"token": sandbox.credentials("slack")})
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_method"


def test_ratelimited_is_a_429_with_retry_after() -> None:
    with Sandbox(seed=2, scale=0.02, rate_limit={"slack": 0.2}, burst=1) as sb, \
            client_for(sb, "slack") as http:
        first, second = (http.post("auth.test") for _ in range(2))
        assert first.status_code == 200
        assert second.status_code == 429
        assert second.json() == {"ok": False, "error": "ratelimited"}
        assert int(second.headers["Retry-After"]) >= 1


def test_non_marketplace_terms_cap_history() -> None:
    with Sandbox(seed=2, scale=0.3, slack_non_marketplace=True) as sb, \
            client_for(sb, "slack") as http:
        channel = _member_channels(http)[0]["id"]
        page = http.post("conversations.history", data={"channel": channel, "limit": 200})
        assert len(page.json()["messages"]) == 15 and page.json()["has_more"]
        again = http.post("conversations.history", data={"channel": channel})
        assert again.status_code == 429 and int(again.headers["Retry-After"]) > 1
        assert http.post("users.list").status_code == 200  # other methods are not Tier 1


def test_tier_limits_are_per_method_and_compressed_in_time() -> None:
    with Sandbox(seed=2, scale=0.02) as sb, client_for(sb, "slack") as http:
        # Tier 2 at 6 times Slack's speed: 2 calls a second, a burst of 2
        sb.configure(slack_tier_scale=6)
        answers = [http.post("users.list") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].json() == {"ok": False, "error": "ratelimited"}
        assert int(answers[2].headers["Retry-After"]) >= 1
        assert http.post("team.info").status_code == 200  # another method, its own budget
        assert http.post("conversations.list").status_code == 200


def test_missing_scopes_name_the_scope_needed() -> None:
    with Sandbox(seed=2, scale=0.1) as sb, client_for(sb, "slack") as http:
        sb.configure(slack_missing_scopes=["channels:history", "users:read.email",
                                           "groups:read"])
        channel = next(c for c in http.post("conversations.list").json()["channels"]
                       if c["is_member"] and not c["is_private"])
        refused = http.post("conversations.history", data={"channel": channel["id"]}).json()
        assert refused["ok"] is False and refused["error"] == "missing_scope"
        assert refused["needed"] == "channels:history"
        assert "channels:history" not in refused["provided"]
        assert slack_problems(refused, "conversations.history", "default") == []
        private = http.post("conversations.list", data={"types": "private_channel"}).json()
        assert private["error"] == "missing_scope" and private["needed"] == "groups:read"
        members = http.post("users.list").json()
        assert slack_problems(members, "users.list") == []
        assert not any("email" in m["profile"] for m in members["members"])
