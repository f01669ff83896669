"""The Slack connector: its settings, its streams, and the pace of a run.

Streams and entities: ``workspace`` (``auth.test``, ``team.info``) → integrations;
``users`` (``users.list``) → contacts; ``channels`` (``conversations.list``) → channels;
``messages`` (``conversations.history``, ``conversations.replies``) → notifications of
channel ``slack`` (``history.py``).

SDK or httpx. Every request goes through the kit's :class:`HttpClient` over httpx, not
``slack_sdk.WebClient``. One HTTP discipline for every connector is the point: the kit's
retries (tenacity, transient errors only, Retry-After honoured), its error mapping, its
injectable transport (the contract suite's faults, the sandbox) and its rate limiter. The
WebClient brings its own of each — its retry handlers, its own connection handling, errors
as ``SlackApiError`` — which would sit beside ours rather than replace them, and its cursor
helper is a ``while`` loop our ``Walk`` already does with loop guards. What Slack needs
beyond the kit is small and lives here: reading ``ok: false`` (``client.py``) and a pace per
method, learned from the answers (``pacing.py``).

Settings (``[connectors.slack]`` in cscor.toml, ``options`` table): ``lookback_days``
(default 7), ``include_dms`` (default false: direct messages are read only when asked),
``channel_clients`` and ``user_clients`` (a Slack channel or member id → the client it
stands for, as ``"source:source_id"``, e.g. ``"stripe:cus_Q1"``). The rate (``--rate-limit``)
is Slack's Tier 4 rate; every method gets its own tier's share of it (``pacing.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from cscor_tools.connectors.base import Connector, ConnectorSettings
from cscor_tools.connectors.http import HttpClient
from cscor_tools.connectors.ratelimit import RateLimiter
from cscor_tools.connectors.slack.client import SlackHttpClient
from cscor_tools.connectors.slack.history import MessagesStream
from cscor_tools.connectors.slack.normalize import Links
from cscor_tools.connectors.slack.pacing import TIER4_PER_S, TIER_PER_MINUTE, Pacing
from cscor_tools.connectors.slack.streams import ChannelsStream, UsersStream, WorkspaceStream
from cscor_tools.errors import ConfigError

DAY_S = 86_400.0


class SlackConnector(Connector):
    """A Slack workspace as one bot token sees it: members, channels, messages, threads."""

    name = "slack"
    title = "Slack"
    credential_env = "SLACK_BOT_TOKEN"
    base_url_env = "SLACK_API_BASE"
    default_base_url = "https://slack.com/api/"
    default_rate_limit = TIER4_PER_S
    default_burst = 1
    #: channels read at once: enough that history and replies both keep their budgets busy
    default_concurrency = 8
    sandbox_provider = "slack"
    http_client_class = SlackHttpClient
    stream_classes: ClassVar = (WorkspaceStream, UsersStream, ChannelsStream, MessagesStream)

    def __init__(self, settings: ConnectorSettings) -> None:
        super().__init__(settings)
        options = settings.options
        try:
            days = float(options.get("lookback_days", 7))
        except (TypeError, ValueError):
            days = -1.0
        if not days >= 0:
            raise ConfigError("[connectors.slack.options] lookback_days must be a number of "
                              f"days, 0 or more (got {options.get('lookback_days')!r})")
        self.lookback_s = days * DAY_S
        self.include_dms = bool(options.get("include_dms", False))
        self.links = Links.from_options(options)
        self.pacing = Pacing(settings.rate_limit)

    def conversation_types(self) -> str:
        kinds = ["public_channel", "private_channel"]
        return ",".join(kinds + (["mpim", "im"] if self.include_dms else []))

    def make_http_client(self) -> HttpClient:
        s = self.settings
        # The provider-wide ceiling: every method at its budget at once. Each method's own
        # pace (``pacing``) is what binds.
        ceiling = sum(TIER_PER_MINUTE.values()) / 60.0 * self.pacing.scale
        return SlackHttpClient(
            self.title,
            s.base_url,
            credential=s.credential,
            credential_env=s.credential_env or self.credential_env,
            limiter=RateLimiter(ceiling, max(1, int(ceiling))),
            transport=s.transport,
            headers=self.http_headers(),
            timeout=s.timeout,
            max_attempts=s.max_attempts,
            pool_size=max(4, s.concurrency * 2),
            pacing=self.pacing,
        )

    def run_details(self) -> dict[str, Any]:
        return {"base_url": self.settings.base_url, "lookback_days": self.lookback_s / DAY_S,
                "include_dms": self.include_dms, "pacing": self.pacing.report()}
