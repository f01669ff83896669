"""Our exception tree, grouped by what the caller should do about each error.

::

    CscorError                      root: every error we raise on purpose
    ├── ConfigError                 fix the configuration, then run again
    │   └── MissingCredentialError  names the environment variable to set
    ├── ProviderError               something a provider (Stripe, Resend, Slack…) said
    │   ├── TransientError          retried with backoff; surfaces only when retries run out
    │   │   ├── RateLimitedError    HTTP 429 (carries Retry-After)
    │   │   └── UnavailableError    5xx, connection reset, timeout, truncated body
    │   │       └── ConnectFailedError  refused or no such host: retried briefly only
    │   └── FatalProviderError      retrying cannot help
    │       ├── AuthenticationError 401: the credential is wrong or revoked
    │       ├── PermissionDeniedError 403: the credential lacks a scope
    │       ├── NotFoundError       404
    │       ├── BadRequestError     any other 4xx
    │       └── UnexpectedResponseError  a 2xx body that is not what the provider documents
    │           ├── UnexpectedFieldError  a record's field of the wrong type, missing or null
    │           └── PaginationLoopError  a list that would page forever (a repeated cursor…)
    ├── RejectedInputError          a file, row or field the user gave us is wrong
    ├── StoreError                  the workspace store failed
    │   └── WorkspaceLockedError    another sync of the same connector holds the lock
    ├── PolicyError                 a minimization policy is invalid
    ├── PartialFailureError         a run finished, but some of its parts failed
    └── SandboxError                the local sandbox could not start or stopped answering
                                    (defined in cscor_tools/sandbox/errors.py)

Tenacity retries :class:`TransientError` and nothing else; no 4xx is skipped silently.
Messages never carry a credential: they name where a credential comes from, never its value.
Each class has an ``exit_code``: the CLI maps errors to exit codes in one place through it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``cscor`` command, documented in README.md."""

    OK = 0
    INTERNAL = 1  # a bug: an exception we did not expect
    USAGE = 2  # click's own code for bad flags and arguments
    CONFIG = 3
    PROVIDER_AUTH = 4
    PROVIDER_UNAVAILABLE = 5
    PROVIDER_REQUEST = 6
    REJECTED_INPUT = 7
    STORE = 8
    LOCKED = 9
    POLICY = 10
    PARTIAL = 11
    RECONCILED = 12  # finished, but had to reconcile past a provider's change-feed horizon


class CscorError(Exception):
    """Root of every error cscor_tools raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(CscorError):
    """The configuration (flags, environment, cscor.toml) is wrong or incomplete."""

    exit_code = ExitCode.CONFIG


class MissingCredentialError(ConfigError):
    """A connector needs a credential that no environment variable or config provides.

    ``provider`` is what the message is about (the connector's title); ``connector`` is the
    connector's name, which is also its section in cscor.toml, so the hint can be copied as is.
    """

    def __init__(self, provider: str, env_var: str, *, connector: str | None = None) -> None:
        section = f"[connectors.{connector or '<connector name>'}]"
        super().__init__(
            f"{provider}: no credential found. Set the environment variable {env_var}, "
            f'or name another variable in cscor.toml: {section} credential_env = "VAR".'
        )
        self.provider = provider
        self.env_var = env_var
        self.connector = connector


class ProviderError(CscorError):
    """A provider answered with an error, or could not be reached."""

    exit_code = ExitCode.PROVIDER_REQUEST

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        path: str | None = None,
    ) -> None:
        where = f" on {path}" if path else ""
        http = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{provider}{where}{http}: {message}")
        self.provider = provider
        self.status = status
        self.code = code
        self.path = path
        #: the stream the failed request was for, once named
        self.stream: str | None = None
        self._head = f"{provider}{where}{http}"

    def name_stream(self, stream: str) -> None:
        """Say in the message which stream the failed request was for, where it does not
        say so yet: the HTTP client that raised the error knows paths, not streams."""
        if self.stream is not None:
            return
        self.stream = stream
        head = f"{self._head}: "
        rest = self.message.removeprefix(head)  # keeps what was added since (retries…)
        self.message = f"{head}stream {stream}: {rest}"
        self.args = (self.message,)


class TransientError(ProviderError):
    """Worth retrying: the same request may succeed later."""

    exit_code = ExitCode.PROVIDER_UNAVAILABLE

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(provider, message, status=status, code=code, path=path)
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    """HTTP 429: the provider asks us to slow down."""


class UnavailableError(TransientError):
    """5xx, a reset connection, a timeout or a truncated body."""


class ConnectFailedError(UnavailableError):
    """The provider's server could not be reached at all (connection refused, no such host).

    Worth a retry or two (a server restarting), not the minutes of backoff an outage gets:
    the HTTP client gives it a short retry budget of its own. Names the host and the reason.
    """

    def __init__(self, provider: str, server: str, reason: str, *,
                 path: str | None = None) -> None:
        super().__init__(provider, f"cannot connect to {server}: {reason}", path=path)
        self.server = server
        self.reason = reason


class FatalProviderError(ProviderError):
    """Retrying the same request cannot help."""


class AuthenticationError(FatalProviderError):
    """HTTP 401: the credential is missing, wrong or revoked."""

    exit_code = ExitCode.PROVIDER_AUTH

    def __init__(self, provider: str, env_var: str | None, *, path: str | None = None) -> None:
        fix = f" Check the value of {env_var}." if env_var else ""
        super().__init__(provider, f"the credential was refused.{fix}", status=401, path=path)
        self.env_var = env_var


class PermissionDeniedError(FatalProviderError):
    """HTTP 403: the credential works but lacks a permission or scope."""

    exit_code = ExitCode.PROVIDER_AUTH


class NotFoundError(FatalProviderError):
    """HTTP 404."""


class BadRequestError(FatalProviderError):
    """Any other 4xx: our request was wrong for this provider."""


class UnexpectedResponseError(FatalProviderError):
    """A 2xx answer whose body is not what the provider documents (not a list envelope, a
    record without its id, a list that repeats itself). Our request was fine and the same
    request would get the same answer: fatal for the stream, exit code 5 like an outage."""

    exit_code = ExitCode.PROVIDER_UNAVAILABLE

    def __init__(
        self,
        provider: str,
        what: str,
        *,
        stream: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        scope = f"stream {stream}: " if stream else ""
        super().__init__(provider, f"{scope}unexpected response: {what}", status=status,
                         path=path)
        self.stream = stream
        self.what = what


class UnexpectedFieldError(UnexpectedResponseError):
    """A record whose field is not what the provider documents: of the wrong type, missing
    or null where the provider promises a value. Names the record (its id) and the field."""

    def __init__(self, provider: str, *, record: str, field: str, reason: str,
                 stream: str | None = None, path: str | None = None) -> None:
        super().__init__(provider, f"record {record}: field {field!r} {reason}",
                         stream=stream, path=path)
        self.record = record
        self.field = field
        self.reason = reason


class PaginationLoopError(UnexpectedResponseError):
    """A list endpoint answered so that paging on would never end, or would end silently:
    a cursor seen before in the same walk, a page of ids all seen already, or "more to
    come" after an empty page."""

    def __init__(self, provider: str, what: str, *, cursor: object, stream: str | None = None,
                 path: str | None = None) -> None:
        super().__init__(provider, f"{what} (cursor {cursor!r}); stopped rather than loop",
                         stream=stream, path=path)
        self.cursor = cursor


class RejectedInputError(CscorError):
    """Input the user gave us is wrong; names the file, row, field and reason where known."""

    exit_code = ExitCode.REJECTED_INPUT

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        parts = [p for p in (file, f"row {row}" if row is not None else None) if p]
        where = ", ".join(parts)
        fld = f" field {field!r}:" if field else ""
        prefix = f"{where}:" if where else ""
        super().__init__(f"{prefix}{fld} {reason}".strip())
        self.reason = reason
        self.file = file
        self.row = row
        self.field = field


class StoreError(CscorError):
    """The workspace store failed (cannot open, migrate, read or write)."""

    exit_code = ExitCode.STORE


class WorkspaceLockedError(StoreError):
    """Another process holds this workspace's lock for the same connector."""

    exit_code = ExitCode.LOCKED

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__(
            # the lock is named "sync:CONNECTOR": the message names the connector
            f"{workspace}: a sync of {name.removeprefix('sync:')!r} is already running on "
            "this workspace; "
            "wait for it to finish (nothing was changed by this attempt)."
        )
        self.workspace = workspace
        self.name = name


class PolicyError(CscorError):
    """A minimization policy is invalid."""

    exit_code = ExitCode.POLICY


class PartialFailureError(CscorError):
    """A run finished but some of its parts failed; what succeeded is kept."""

    exit_code = ExitCode.PARTIAL
