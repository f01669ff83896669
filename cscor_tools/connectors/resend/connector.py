"""The Resend connector: where Resend is, the key it needs, its share of the team's rate."""

from __future__ import annotations

from typing import Any

from cscor_tools.connectors.base import Connector, Stream
from cscor_tools.connectors.http import HttpClient
from cscor_tools.connectors.resend.client import (
    DEFAULT_SHARE,
    DOCUMENTED_TEAM_RATE,
    ResendHttpClient,
)
from cscor_tools.connectors.resend.streams import (
    BroadcastRecipientsStream,
    BroadcastsStream,
    ContactsStream,
    ContactTopicsStream,
    DomainsStream,
    ReceivedEmailsStream,
    SentEmailsStream,
)


class ResendConnector(Connector):
    """Sent and received emails, contacts (segments, topics), broadcasts and their
    recipients, and domains of one Resend team."""

    name = "resend"
    title = "Resend"
    credential_env = "RESEND_API_KEY"
    base_url_env = "RESEND_API_BASE"
    default_base_url = "https://api.resend.com"
    #: half of the team's documented 2 requests per second: the rest is the owner's sending
    default_rate_limit = DOCUMENTED_TEAM_RATE * DEFAULT_SHARE
    default_burst = 1
    default_concurrency = 2
    sandbox_provider = "resend"
    http_client_class = ResendHttpClient
    stream_classes = (SentEmailsStream, ReceivedEmailsStream, ContactsStream,
                      ContactTopicsStream, BroadcastsStream, BroadcastRecipientsStream,
                      DomainsStream)

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._streams: list[Stream] = []

    @property
    def share(self) -> float | None:
        """The share of the team's limit to use as Resend states it; None when a rate above
        the default was given (``--rate-limit``, ``CSCOR_RESEND_RATE_LIMIT``): taken as is.

        A rate at or under the default (the default itself, or ``rate_share`` of it) reads
        as that share of the team's documented limit, and follows the limit the team really
        has; ``[connectors.resend.options] team_share`` names the share outright."""
        given = self.settings.options.get("team_share")
        if given is not None:
            return min(1.0, max(0.01, float(given)))
        if self.settings.rate_limit > self.default_rate_limit:
            return None
        return self.settings.rate_limit / DOCUMENTED_TEAM_RATE

    def make_http_client(self) -> HttpClient:
        client = super().make_http_client()
        assert isinstance(client, ResendHttpClient)
        client.share = self.share
        return client

    def streams(self) -> list[Stream]:
        self._streams = super().streams()
        return self._streams

    def run_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"base_url": self.settings.base_url, "share": self.share}
        http = self._http
        if isinstance(http, ResendHttpClient) and http.team_rate is not None:
            details["team_rate_per_s"] = http.team_rate
        for stream in self._streams:
            summary = getattr(stream, "summary", None)
            counts = summary() if summary else {}
            if counts:
                details[stream.name] = counts
        return details
