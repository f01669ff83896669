"""The one HTTP discipline every connector uses, and the one place HTTP errors become ours.

httpx with an overridable base URL and an injectable transport; a shared token-bucket rate
limiter; tenacity retries on transient errors only (429, 5xx, connection errors, truncated
bodies), honouring Retry-After. Credentials live in request headers only: never in a log
line, an error message, a repr or the run state.

Pacing is a :class:`RatePolicy`: which limiter a request waits on besides the provider's
shared one, and what a 429 does. The default suits a provider that limits an account as a
whole (Stripe, Resend): a 429 pauses and slows every request. A provider that limits each
method apart (Slack) gives each method a limiter of its own and holds back that method alone.
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import orjson
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from cscor_tools._version import __version__
from cscor_tools.connectors.base import Secret
from cscor_tools.connectors.ratelimit import RateLimiter
from cscor_tools.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectFailedError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitedError,
    TransientError,
    UnavailableError,
    UnexpectedResponseError,
)

log = logging.getLogger("cscor_tools.http")

USER_AGENT = f"cscor-tools/{__version__}"


@dataclass
class RequestStats:
    """What one client did, for the run summary. Thread-safe."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    network_errors: int = 0
    failed: int = 0
    bytes_received: int = 0
    limiter_wait_s: float = 0.0
    #: times a refusal for rate made the shared limiter send slower (see RateLimiter.throttle)
    rate_cuts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "rate_limited": self.rate_limited,
                "server_errors": self.server_errors,
                "network_errors": self.network_errors,
                "failed": self.failed,
                "bytes_received": self.bytes_received,
                "limiter_wait_s": round(self.limiter_wait_s, 3),
                "rate_cuts": self.rate_cuts,
            }


class Pace(Protocol):
    """Anything a request can wait on: ``acquire`` blocks until it may go and returns the
    seconds waited (:class:`~cscor_tools.connectors.ratelimit.RateLimiter` is one)."""

    def acquire(self) -> float: ...


class RatePolicy:
    """How a client paces its requests and answers a refusal for rate (HTTP 429).

    Every attempt waits on ``limiter_for(path)`` (if any), then on the client's shared
    limiter: the provider-wide ceiling always applies. A 429 that will be retried calls
    ``rate_limited``. This default pauses the shared limiter for the Retry-After the provider
    gave and cuts its rate (:meth:`RateLimiter.throttle`): right where the limit is the
    account's. Subclass it where the provider limits parts of its API apart (see
    ``connectors/slack/client.py``), and pass it as ``HttpClient(rate_policy=…)``.
    """

    def limiter_for(self, path: str) -> Pace | None:
        """The limiter of the part of the API ``path`` belongs to (None: the shared one only)."""
        return None

    def rate_limited(self, client: HttpClient, error: RateLimitedError, wait: float) -> None:
        """``error`` refused a request for rate; it is retried in ``wait`` seconds.

        The limit is the account's, so everyone slows down, not just this thread: all wait
        as long as the provider said (Retry-After), and all send slower from now on. Without
        Retry-After only this request waits out its own backoff: a pause of everyone by one
        request's growing backoff would stall the whole run.
        """
        limiter = client.limiter
        if error.retry_after is not None:
            limiter.pause(wait)
        if limiter.throttle():
            client.stats.add(rate_cuts=1)
            log.warning(
                "rate lowered",
                extra={
                    "event": "rate_lowered",
                    "provider": client.provider,
                    "rate_per_s": round(limiter.rate, 2),
                    "ceiling_per_s": limiter.ceiling,
                },
            )


@dataclass(frozen=True)
class JsonResponse:
    status: int
    headers: httpx.Headers
    data: Any


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# Network trouble that the same request may get past later.
TRANSIENT_TRANSPORT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,  # includes bodies cut short (Content-Length not reached)
    httpx.ProxyError,
)


#: a response body larger than this is refused, not decoded: the largest page we read (100
#: Stripe invoices with their lines) is a few megabytes, and a body of hundreds would be
#: stored whole as rows, or exhaust memory
MAX_BODY_BYTES = 64 * 1024 * 1024

#: attempts at a server that refuses connections or cannot be found: a server restarting gets
#: a moment, a wrong address fails within about a second instead of minutes of backoff
CONNECT_ATTEMPTS = 3


def map_transport_error(provider: str, exc: httpx.TransportError, path: str) -> ProviderError:
    """The one translation of httpx transport failures into our errors (a test checks every
    httpx transport error class lands somewhere)."""
    where = path_only(path)
    if isinstance(exc, httpx.ConnectError):
        return ConnectFailedError(provider, _server_of(exc), _reason_of(exc), path=where)
    if isinstance(exc, TRANSIENT_TRANSPORT_ERRORS):
        return UnavailableError(provider, f"network error: {type(exc).__name__}", path=where)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return BadRequestError(provider, "the base URL must start with http:// or https://",
                               path=where)
    # LocalProtocolError and anything httpx adds later: our request could not be sent.
    return BadRequestError(provider, f"request could not be sent: {type(exc).__name__}",
                           path=where)


def _server_of(exc: httpx.TransportError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:  # raised without a request
        return "the server"
    return f"{url.host}:{url.port}" if url.port is not None else url.host


def _reason_of(exc: httpx.TransportError) -> str:
    lines = str(exc).strip().splitlines()
    reason = re.sub(r"^\[Errno -?\d+\]\s*", "", lines[0]) if lines else ""
    return reason or type(exc).__name__


class HttpClient:
    """A provider's HTTP client. Subclass to read a provider's own error bodies."""

    #: Authorization scheme for the credential
    auth_scheme = "Bearer"

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        credential: Secret | None = None,
        credential_env: str | None = None,
        limiter: RateLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        max_attempts: int = 8,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 16,
        rate_policy: RatePolicy | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/") + "/"
        self.credential_env = credential_env
        self.limiter = limiter or RateLimiter(10.0, 10)
        self.rate_policy = rate_policy or RatePolicy()
        self.stats = RequestStats()
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._sleep = sleep
        all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        if credential is not None:
            all_headers["Authorization"] = f"{self.auth_scheme} {credential.reveal()}"
        limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=all_headers,
            transport=transport,
            timeout=timeout,
            limits=limits,
        )
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=30.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    # -- requests ---------------------------------------------------------------------------

    def get(self, path: str, params: Any = None) -> JsonResponse:
        return self.request("GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> JsonResponse:
        """One logical request: rate-limited, retried while transient, mapped to our errors."""
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=self._stop,
            wait=self._wait,
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        # tenacity's retry state and the Retrying object refer to each other, and the state
        # keeps the last result: the decoded page would live on in that cycle until a full
        # garbage collection (memory then grows with the account). The result rides in a box
        # that is emptied here, so the cycle holds nothing large.
        box: list[JsonResponse] = []
        started = time.monotonic()
        try:
            retrying(self._attempt, method, path, params, data, headers, box)
        except TransientError as exc:
            self.stats.add(failed=1)
            gave_up(exc, retrying.statistics.get("attempt_number", 1),
                    time.monotonic() - started)
            raise
        except ProviderError:
            self.stats.add(failed=1)
            raise
        return box.pop()

    def _attempt(
        self,
        method: str,
        path: str,
        params: Any,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        box: list[JsonResponse],
    ) -> None:
        own = self.rate_policy.limiter_for(path)
        waited = own.acquire() if own is not None else 0.0
        waited += self.limiter.acquire()
        self.stats.add(requests=1, limiter_wait_s=waited)
        started = time.perf_counter()
        try:
            # Streamed and joined here rather than read into ``response.content``: httpx
            # responses sit in reference cycles, and one that kept its body would hold a
            # page of raw JSON until a full garbage collection (measured: 280 such bodies
            # alive at once in a 6,667-customer sync, tens of megabytes).
            with self._client.stream(method, path.lstrip("/"), params=params, data=data,
                                     headers=headers) as response:
                content = self._read_body(response, path)
        except httpx.TransportError as exc:
            error = map_transport_error(self.provider, exc, path)
            if isinstance(error, TransientError):
                self.stats.add(network_errors=1)
            raise error from None
        log.debug(
            "request",
            extra={
                "event": "http",
                "provider": self.provider,
                "method": method,
                "path": path_only(path),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        self.stats.add(bytes_received=len(content))
        body = self._decode(response, content, path)
        self.raise_for_status(response, body, path)
        box.append(JsonResponse(response.status_code, response.headers, body))

    def _read_body(self, response: httpx.Response, path: str) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise UnexpectedResponseError(
                    self.provider, f"a response body over {MAX_BODY_BYTES // 2**20} MB; "
                    "refused rather than stored", path=path_only(path),
                    status=response.status_code)
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, response: httpx.Response, content: bytes, path: str) -> Any:
        if not content:
            return None
        try:
            # orjson decodes provider pages 2-3x faster than json: decoding is the largest
            # CPU cost per page of a sync, paid under one GIL.
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            if response.is_success:
                # A 2xx whose body does not parse was cut short on the way: read it again.
                self.stats.add(network_errors=1)
                raise UnavailableError(
                    self.provider, "truncated or malformed response body", path=path_only(path),
                    status=response.status_code,
                ) from None
            return None

    # -- error mapping: the single place provider and HTTP failures become ours ---------------

    def error_details(self, body: Any) -> tuple[str, str | None]:
        """The provider's own message and error code from an error body."""
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict):
                return str(err.get("message") or err.get("type") or "error"), err.get("code")
            if isinstance(err, str):
                return err, err
            if "message" in body:
                return str(body["message"]), body.get("name") or body.get("code")
        return "no details given", None

    def credential_hint(self) -> str:
        """Which credential to look at when the provider refuses one (never its value)."""
        if not self.credential_env:
            return ""
        return f" Check {self.credential_env}: the credential may be invalid or lack a permission."

    def retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("retry-after"))

    def raise_for_status(self, response: httpx.Response, body: Any, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        where = path_only(path)
        message, code = self.error_details(body)
        if status == 429:
            self.stats.add(rate_limited=1)
            raise RateLimitedError(
                self.provider, f"rate limited: {message}", retry_after=self.retry_after(response),
                status=status, code=code, path=where,
            )
        if status >= 500:
            self.stats.add(server_errors=1)
            raise UnavailableError(
                self.provider, f"server error: {message}", retry_after=self.retry_after(response),
                status=status, code=code, path=where,
            )
        if status == 401:
            raise AuthenticationError(self.provider, self.credential_env, path=where)
        if status == 403:
            raise PermissionDeniedError(
                self.provider, f"permission denied: {message.rstrip('.')}.{self.credential_hint()}",
                status=status, code=code, path=where,
            )
        if status == 404:
            raise NotFoundError(
                self.provider, f"not found: {message}", status=status, code=code, path=where
            )
        raise BadRequestError(
            self.provider, f"request refused: {message}", status=status, code=code, path=where
        )

    # -- retry policy -----------------------------------------------------------------------

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        budget = CONNECT_ATTEMPTS if isinstance(exc, ConnectFailedError) else self.max_attempts
        return state.attempt_number >= min(budget, self.max_attempts)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ConnectFailedError):
            return min(0.25 * 2 ** (state.attempt_number - 1), 1.0)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(min(retry_after, self.max_wait))
        return float(min(self._backoff(state), self.max_wait))

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self.stats.add(retries=1)
        if isinstance(exc, RateLimitedError):
            self.rate_policy.rate_limited(self, exc, wait)
        log.info(
            "retrying",
            extra={
                "event": "retry",
                "provider": self.provider,
                "reason": str(exc),
                "attempt": state.attempt_number,
                "wait_s": round(wait, 3),
            },
        )


def gave_up(error: TransientError, attempts: int, seconds: float) -> None:
    """Make the message of ``error`` (the last attempt's) say the retries ran out: how many
    attempts, over how long, and what the last one got. Its class and fields stay the same,
    so exit codes and callers that look at ``status`` see no difference."""
    last = (f"the last answered HTTP {error.status}" if error.status is not None
            else "the last got no answer")
    if attempts <= 1:
        note = f"gave up after 1 attempt ({last.replace('the last ', 'it ')})"
    else:
        note = f"gave up after {attempts} attempts over {seconds:.1f} s; {last}"
    error.message = f"{error.message}; {note}"
    error.args = (error.message,)


def path_only(path: str) -> str:
    """A path fit for messages: no query string (it may carry search terms or emails)."""
    return "/" + path.split("?", 1)[0].lstrip("/")
