"""Resend's HTTP client: its error bodies, and the team rate limit it states on every response.

Resend limits requests per **team**, and the owner's production sending spends the same
budget. The connector takes a share of it (half by default) and learns the real limit from
the ``ratelimit-limit`` / ``ratelimit-policy`` headers of the first answers, so a team with a
raised limit is synced faster and one with the default is never crowded. When an answer says
nothing is left (``ratelimit-remaining: 0``), every request waits until ``ratelimit-reset``;
a 429 waits ``retry-after`` (or the reset) and lowers the rate, through the kit's limiter.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import httpx

from cscor_tools.connectors.http import HttpClient, parse_retry_after, path_only
from cscor_tools.errors import PermissionDeniedError

#: Resend's documented default: 2 requests per second per team
DOCUMENTED_TEAM_RATE = 2.0
#: the share of the team's limit a sync takes unless told otherwise
DEFAULT_SHARE = 0.5
_WINDOW = re.compile(r"w=(\d+(?:\.\d+)?)")


def team_rate(headers: httpx.Headers) -> float | None:
    """Requests per second the team may make, from ``ratelimit-limit`` over the window of
    ``ratelimit-policy`` (``2;w=1``; one second when no policy is given, as Resend documents
    its limit per second). None when the headers say nothing usable."""
    raw = headers.get("ratelimit-limit")
    try:
        limit = float(raw) if raw is not None else math.nan
    except ValueError:
        return None
    if not limit > 0 or math.isinf(limit):
        return None
    window = 1.0
    match = _WINDOW.search(headers.get("ratelimit-policy") or "")
    if match and float(match.group(1)) > 0:
        window = float(match.group(1))
    return limit / window


class ResendHttpClient(HttpClient):
    """The kit's client, reading Resend's ``{"statusCode", "message", "name"}`` error bodies
    and its ``ratelimit-*`` headers.

    ``share`` is the part of the team's limit this sync may use; None keeps the configured
    rate as given (an explicit ``--rate-limit``: the headers are not consulted).
    """

    def __init__(self, *args: Any, share: float | None = DEFAULT_SHARE, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.share = share
        #: the team's limit as Resend last stated it (requests per second)
        self.team_rate: float | None = None
        self._learn_lock = threading.Lock()

    def raise_for_status(self, response: httpx.Response, body: Any, path: str) -> None:
        self._learn(response.headers)
        if response.status_code == 403 and isinstance(body, dict) \
                and body.get("name") in ("invalid_api_key", "restricted_api_key"):
            what = ("the API key was refused (invalid_api_key)" if body["name"] ==
                    "invalid_api_key" else "the API key may only send emails "
                    "(restricted_api_key): a full-access key is needed to read")
            raise PermissionDeniedError(
                self.provider, f"{what}. Check {self.credential_env or 'the API key'}.",
                status=403, code=body["name"], path=path_only(path),
            )
        super().raise_for_status(response, body, path)

    def retry_after(self, response: httpx.Response) -> float | None:
        """``retry-after``, or else the seconds until the team's window resets."""
        waited = parse_retry_after(response.headers.get("retry-after"))
        if waited is None:
            waited = parse_retry_after(response.headers.get("ratelimit-reset"))
        return waited

    def _learn(self, headers: httpx.Headers) -> None:
        if self.share is not None:
            stated = team_rate(headers)
            if stated is not None and stated != self.team_rate:
                with self._learn_lock:
                    self.team_rate = stated
                    self.limiter.set_ceiling(stated * self.share)
        if headers.get("ratelimit-remaining") == "0":
            # Production sends spend the same budget: leave them the rest of this window.
            reset = parse_retry_after(headers.get("ratelimit-reset"))
            if reset:
                self.limiter.pause(min(reset, self.max_wait))

