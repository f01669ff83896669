"""Slack's Web API under ``/api/``: the methods a sync needs, with Slack's token rules, cursors
and ``ok: false`` errors.

Arguments come as a GET query or a form-encoded POST body (slack_sdk's WebClient always posts
forms); the token as ``Authorization: Bearer`` or a ``token`` argument. Errors are HTTP 200
with ``ok: false``, except ``ratelimited`` (HTTP 429 with Retry-After) and unknown methods
(404), as at Slack. A method the token lacks a scope for answers ``missing_scope`` naming the
scope ``needed`` (the knob ``slack_missing_scopes``); without ``users:read.email`` members
come without their email, as at Slack.

Rate limits are per method, by Slack's tiers (``method_budget``): with the knob
``slack_tier_scale`` each method gets its tier's calls a minute, time compressed by that
factor; under the 2025 terms for apps outside the Marketplace (``slack_non_marketplace``)
history and replies get one call a minute and 15 messages a call.
"""

from __future__ import annotations

import base64
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

from cscor_tools.sandbox.clock import parse_slack_ts
from cscor_tools.sandbox.config import Knobs
from cscor_tools.sandbox.slack_data import Message, SlackData, message_json
from cscor_tools.sandbox.template import dumps
from cscor_tools.sandbox.wire import Request, Response

_JSON = "application/json; charset=utf-8"
#: the methods whose 2025 limits apply to apps outside the Marketplace
HISTORY_METHODS = frozenset({"conversations.history", "conversations.replies"})
#: calls a minute per method, from the tier Slack's docs give each (auth.test is "special":
#: hundreds a minute, counted here as Tier 4)
TIER_PER_MINUTE: dict[str, float] = {
    "auth.test": 100.0,
    "team.info": 50.0,
    "users.list": 20.0,
    "conversations.list": 20.0,
    "conversations.history": 50.0,
    "conversations.replies": 50.0,
}
#: Tier 1 for history and replies under the 2025 non-Marketplace terms
NON_MARKETPLACE_PER_MINUTE = 1.0
#: the scope each method needs (private channels need the ``groups:`` one instead)
SCOPES: dict[str, str] = {
    "team.info": "team:read",
    "users.list": "users:read",
    "conversations.list": "channels:read",
}
ALL_SCOPES = ("channels:history", "channels:read", "groups:history", "groups:read",
              "team:read", "users:read", "users:read.email")


class SlackError(Exception):
    def __init__(self, error: str, **extra: str) -> None:
        super().__init__(error)
        self.extra = extra


def _ok(payload: dict[str, Any], objects: int = 0) -> Response:
    return Response(200, dumps({"ok": True, **payload}), content_type=_JSON, objects=objects)


def _fail(error: str, status: int = 200, headers: list[tuple[str, str]] | None = None,
          **extra: Any) -> Response:
    return Response(status, dumps({"ok": False, "error": error, **extra}), content_type=_JSON,
                    headers=list(headers or []))


def _cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def _read_cursor(raw: str, kind: str) -> str:
    try:
        decoded = base64.b64decode(raw, validate=True).decode()
    except ValueError:
        raise SlackError("invalid_cursor") from None
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value:
        raise SlackError("invalid_cursor")
    return value


def _int(value: str | None, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise SlackError("invalid_arguments") from None


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


class SlackAPI:
    """Answers ``/api/<method>`` from a :class:`SlackData`, as the sandbox's bot user."""

    name = "slack"

    def __init__(self, data: SlackData, token: str,
                 knobs: Callable[[], Knobs] = Knobs) -> None:
        self.data = data
        self.token = token
        self.knobs = knobs
        self._methods: dict[str, Callable[[dict[str, str]], Response]] = {
            "auth.test": self._auth_test,
            "team.info": self._team_info,
            "users.list": self._users_list,
            "conversations.list": self._conversations_list,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
        }

    def non_marketplace(self) -> bool:
        return self.knobs().slack_non_marketplace

    @staticmethod
    def method_of(req: Request) -> str:
        return req.path.rstrip("/").rsplit("/", 1)[-1]

    @classmethod
    def method_budget(cls, req: Request, knobs: Knobs) -> tuple[str | None, float | None, int]:
        """The bucket a request takes from: its method, calls a minute (time compressed by
        ``slack_tier_scale``) and burst; (None, None, 1) when its method is not limited."""
        name = cls.method_of(req)
        scale = knobs.slack_tier_scale
        if knobs.slack_non_marketplace and name in HISTORY_METHODS:
            return f"slack:{name}", NON_MARKETPLACE_PER_MINUTE * (scale or 1.0), 1
        if scale is None or name not in TIER_PER_MINUTE:
            return None, None, 1
        per_minute = TIER_PER_MINUTE[name]
        # Slack's tiers allow short bursts: a tenth of a minute's calls at once
        return f"slack:{name}", per_minute * scale, max(1, int(per_minute // 10))

    def _scope(self, scope: str) -> None:
        missing = self.knobs().slack_missing_scopes
        if scope in missing:
            provided = ",".join(s for s in ALL_SCOPES if s not in missing)
            raise SlackError("missing_scope", needed=scope, provided=provided)

    def handle(self, req: Request) -> Response:
        method = self.method_of(req)
        handler = self._methods.get(method)
        if handler is None:
            return _fail("unknown_method", 404, req_method=method)
        args = req.flat
        scheme, _, value = (req.header("authorization") or "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else args.get("token", "")
        if not token:
            return _fail("not_authed")
        if token != self.token:
            return _fail("invalid_auth")
        try:
            if method in SCOPES:
                self._scope(SCOPES[method])
            return handler(args)
        except SlackError as err:
            return _fail(str(err), 200, None, **err.extra)

    def rate_limited(self, req: Request, retry_after: float) -> Response:
        seconds = max(1, round(retry_after + 0.499))
        return _fail("ratelimited", 429, [("Retry-After", str(seconds))])

    def server_error(self, req: Request, status: int) -> Response:
        return _fail("fatal_error", status)

    # -- methods -----------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, str]) -> Response:
        bot = self.data.bot_user
        assert bot is not None
        return _ok({
            "url": "https://cscor-sandbox.slack.com/",
            "team": "Cscor Sandbox",
            "user": bot.name,
            "team_id": self.data.team_id,
            "user_id": bot.id,
            "bot_id": self.data.bot_id,
            "is_enterprise_install": False,
        })

    def _team_info(self, args: dict[str, str]) -> Response:
        return _ok({"team": self.data.team_json()}, objects=1)

    def _page(self, items: list[Any], key: Callable[[Any], str], kind: str,
              args: dict[str, str], default: int, maximum: int) -> tuple[list[Any], str]:
        """Cursor pages over a list in its own order; the cursor names the next item."""
        limit = _int(args.get("limit"), default)
        limit = maximum if limit <= 0 or limit > maximum else limit
        start = 0
        if args.get("cursor"):
            wanted = _read_cursor(args["cursor"], kind)
            keys = [key(i) for i in items]
            if wanted not in keys:
                raise SlackError("invalid_cursor")
            start = keys.index(wanted)
        page = items[start : start + limit]
        rest = items[start + limit : start + limit + 1]
        return page, _cursor(kind, key(rest[0])) if rest else ""

    def _users_list(self, args: dict[str, str]) -> Response:
        # without a limit Slack returns every member at once (docs advise paging, <= 200)
        users = self.data.users
        page, cursor = self._page(users, lambda u: u.id, "user", args, 0, max(1, len(users)))
        members = [self.data.user_json(u) for u in page]
        if "users:read.email" in self.knobs().slack_missing_scopes:
            for member in members:
                member["profile"].pop("email", None)
        return _ok({"members": members, "cache_ts": self.data.clock.now,
                    "response_metadata": {"next_cursor": cursor}}, objects=len(members))

    def _conversations_list(self, args: dict[str, str]) -> Response:
        types = {t.strip() for t in (args.get("types") or "public_channel").split(",")}
        unknown = types - {"public_channel", "private_channel", "mpim", "im"}
        if unknown:
            raise SlackError("invalid_types")
        if "private_channel" in types:
            self._scope("groups:read")
        visible = [
            c for c in self.data.channels
            if ("private_channel" in types if c.is_private else "public_channel" in types)
            and (c.is_member or not c.is_private)
            and not (c.is_archived and _flag(args.get("exclude_archived")))
        ]
        page, cursor = self._page(visible, lambda c: c.id, "team", args, 100, 1000)
        channels = [self.data.channel_json(c) for c in page]
        return _ok({"channels": channels, "response_metadata": {"next_cursor": cursor}},
                   objects=len(channels))

    def _readable(self, args: dict[str, str]) -> Any:
        channel = self.data.channel(args.get("channel", ""))
        if channel is None or (channel.is_private and not channel.is_member):
            raise SlackError("channel_not_found")
        if not channel.is_member:
            raise SlackError("not_in_channel")
        self._scope("groups:history" if channel.is_private else "channels:history")
        return channel

    def _history_limits(self) -> tuple[int, int]:
        # Slack's 2025 terms: apps outside the Marketplace get 15 messages a call at most
        return (15, 15) if self.non_marketplace() else (100, 999)

    @staticmethod
    def _window(args: dict[str, str]) -> tuple[int, int]:
        """``oldest``/``latest`` as an inclusive microsecond range."""
        try:
            oldest = parse_slack_ts(args["oldest"]) if args.get("oldest") else 0
            latest = parse_slack_ts(args["latest"]) if args.get("latest") else 2**62
        except ValueError:
            raise SlackError("invalid_ts_oldest" if "oldest" in args else
                             "invalid_ts_latest") from None
        if not _flag(args.get("inclusive")):
            oldest, latest = oldest + 1, latest - 1
        return oldest, latest

    def _history(self, args: dict[str, str]) -> Response:
        channel = self._readable(args)
        oldest, latest = self._window(args)
        default, maximum = self._history_limits()
        limit = _int(args.get("limit"), default)
        limit = maximum if limit <= 0 or limit > maximum else limit
        messages: list[Message] = channel.messages
        stamps = [m.ts for m in messages]
        end = bisect_right(stamps, latest)
        if args.get("cursor"):  # the cursor names the newest message of the next page
            try:
                end = min(end, bisect_right(stamps, int(_read_cursor(args["cursor"], "next_ts"))))
            except ValueError:
                raise SlackError("invalid_cursor") from None
        low = bisect_left(stamps, oldest)
        first = max(low, end - limit)
        page = messages[first:end][::-1]  # newest first
        team = self.data.team_id
        payload: dict[str, Any] = {
            "messages": [message_json(m, team) for m in page],
            "has_more": first > low,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if first > low:
            payload["response_metadata"] = {"next_cursor": _cursor("next_ts",
                                                                   str(stamps[first - 1]))}
        return _ok(payload, objects=len(page))

    def _replies(self, args: dict[str, str]) -> Response:
        channel = self._readable(args)
        try:
            parent = channel.by_ts.get(parse_slack_ts(args.get("ts", "")))
        except ValueError:
            parent = None
        if parent is None:
            raise SlackError("thread_not_found")
        if parent.thread_ts is not None and parent.thread_ts != parent.ts:
            parent = channel.by_ts[parent.thread_ts]
        oldest, latest = self._window(args)
        thread = [parent, *parent.replies]
        thread = [m for m in thread if m is parent or oldest <= m.ts <= latest]
        # replies default to (and cap at) 1000, or 15 under the non-Marketplace terms
        cap = 15 if self.non_marketplace() else 1000
        page, cursor = self._page(thread, lambda m: str(m.ts), "next_ts", args, cap, cap)
        team = self.data.team_id
        payload: dict[str, Any] = {
            "messages": [message_json(m, team) for m in page],
            "has_more": bool(cursor),
        }
        if cursor:
            payload["response_metadata"] = {"next_cursor": cursor}
        return _ok(payload, objects=len(page))
