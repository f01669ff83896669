"""Slack over our one HTTP discipline: ``ok: false`` bodies as errors, and a pace per method.

Slack answers most errors with HTTP 200 and ``{"ok": false, "error": "<code>"}``. Every such
body is an error here, naming the method and Slack's code, never an empty page: a refused
token is an authentication error naming ``SLACK_BOT_TOKEN``, ``missing_scope`` names the
scope to add, ``not_in_channel``/``channel_not_found`` are a :class:`SlackChannelError` that
fails one channel, Slack's own trouble (``internal_error``, ``fatal_error``…) is retried.

Rate: Slack limits each method apart (``pacing.py``), so this client's
:class:`~cscor_tools.connectors.http.RatePolicy` paces each attempt on its method's pacer,
and a 429 holds back that method alone. The kit's shared limiter still applies as the
provider-wide ceiling; it is not paused or slowed by one method's 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from cscor_tools.connectors.http import HttpClient, JsonResponse, Pace, RatePolicy, path_only
from cscor_tools.connectors.slack.pacing import Pacing, method_of
from cscor_tools.errors import (
    AuthenticationError,
    BadRequestError,
    FatalProviderError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UnexpectedResponseError,
)

#: Slack's codes for a token it will not take
AUTH_ERRORS = frozenset({"not_authed", "invalid_auth", "account_inactive", "token_revoked",
                         "token_expired", "not_allowed_token_type", "no_permission",
                         "ekm_access_denied", "team_access_not_granted"})
#: Slack's codes for trouble on its side: the same call may pass later
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})
#: one channel cannot be read: the others can
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found"})


class SlackAuthError(AuthenticationError):
    """Slack refused the token (``invalid_auth``…, answered with HTTP 200)."""

    def __init__(self, provider: str, method: str, code: str, env_var: str | None) -> None:
        fix = f" Check the value of {env_var}." if env_var else ""
        ProviderError.__init__(self, provider, f"{method} answered {code}: the token was "
                               f"refused.{fix}", code=code, path=f"/{method}")
        self.env_var = env_var


class SlackChannelError(FatalProviderError):
    """One channel cannot be read (``not_in_channel``, ``channel_not_found``)."""


def slack_error(provider: str, method: str, body: Mapping[str, Any],
                env_var: str | None) -> ProviderError:
    """The error an ``ok: false`` body stands for; names the method and Slack's code."""
    code = str(body.get("error") or "no error code given")
    path = f"/{method}"
    if code in AUTH_ERRORS:
        return SlackAuthError(provider, method, code, env_var)
    if code == "missing_scope":
        needed = body.get("needed") or "the one the method's documentation names"
        return PermissionDeniedError(
            provider, f"{method} answered missing_scope: add the scope {needed} to the app "
            "(OAuth & Permissions) and reinstall it to the workspace", code=code, path=path)
    if code in CHANNEL_ERRORS:
        return SlackChannelError(provider, f"{method} answered {code}", code=code, path=path)
    if code == "ratelimited":
        return RateLimitedError(provider, f"{method} answered ratelimited", code=code,
                                path=path)
    if code in TRANSIENT_ERRORS:
        return UnavailableError(provider, f"{method} answered {code}", code=code, path=path)
    return BadRequestError(provider, f"{method} answered {code}", code=code, path=path)


class MethodRatePolicy(RatePolicy):
    """Each Web API method waits on its own pacer; a 429 holds back that method alone."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing

    def limiter_for(self, path: str) -> Pace:
        return self.pacing.pacer(method_of(path))

    def rate_limited(self, client: HttpClient, error: RateLimitedError, wait: float) -> None:
        self.pacing.rate_limited(method_of(error.path or ""), error.retry_after)


class SlackHttpClient(HttpClient):
    """Reads Slack's ``ok`` envelope and paces each method to its own budget."""

    def __init__(self, *args: Any, pacing: Pacing, **kwargs: Any) -> None:
        super().__init__(*args, rate_policy=MethodRatePolicy(pacing), **kwargs)
        self.pacing = pacing

    def request(self, method: str, path: str, *, params: Any = None,
                data: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None) -> JsonResponse:
        api = method_of(path)
        with self.pacing.call(api):
            params = self.pacing.sized(api, params)
            response = super().request(method, path, params=params, data=data, headers=headers)
            self.pacing.observe(api, _limit_of(params), response.data)
        return response

    def raise_for_status(self, response: httpx.Response, body: Any, path: str) -> None:
        if response.status_code >= 400:
            super().raise_for_status(response, body, path)
            return
        method = method_of(path)
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            raise UnexpectedResponseError(self.provider, f"{method}: the body has no 'ok' "
                                          "flag", path=path_only(path),
                                          status=response.status_code)
        if body["ok"] is False:
            raise slack_error(self.provider, method, body, self.credential_env)

    def error_details(self, body: Any) -> tuple[str, str | None]:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return body["error"], body["error"]
        return super().error_details(body)


def _limit_of(params: Any) -> int | None:
    items = params.items() if isinstance(params, Mapping) else params or ()
    for key, value in items:
        if key == "limit":
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None
