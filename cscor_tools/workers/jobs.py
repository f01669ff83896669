"""What a queued sync or export job is, and how a worker runs one: no queue engine in here.

A job's arguments are stored in the queue, readable by whoever can read the database, so they
hold names, never secrets: the workspace URL without a password (workers get it from
``PGPASSWORD`` or ``~/.pgpass``, as libpq does), and the *name* of the environment variable that
holds the provider credential on the workers (``credential_env``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cscor_tools.config import Config, ExportSpec, workspace_location_problem
from cscor_tools.connectors import load_connector
from cscor_tools.connectors.base import Secret
from cscor_tools.connectors.settings import connector_settings
from cscor_tools.errors import ConfigError, CscorError, ExitCode, MissingCredentialError
from cscor_tools.export.configured import check_spec, run_export
from cscor_tools.export.remote import is_remote
from cscor_tools.store import is_postgres_url, open_store
from cscor_tools.store.postgres import redact_url
from cscor_tools.sync import SyncResult, sync
from cscor_tools.workers.budget import SharedRateLimiter, account_key

#: errors a retry cannot mend: a person must fix a credential, a setting or a request first
NOT_RETRIED = frozenset({
    ExitCode.USAGE, ExitCode.CONFIG, ExitCode.PROVIDER_AUTH, ExitCode.PROVIDER_REQUEST,
    ExitCode.REJECTED_INPUT, ExitCode.POLICY,
})


class SyncJobError(CscorError):
    """A queued sync ran but did not finish its work (some or all streams failed)."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def is_retried(exc: BaseException) -> bool:
    """Whether a failed attempt is worth another: outages, locks, store trouble and the
    unexpected are; a refused credential or a bad setting is not (it parks at once)."""
    code = exc.exit_code if isinstance(exc, CscorError) else ExitCode.INTERNAL
    return ExitCode(code) not in NOT_RETRIED


@dataclass(frozen=True)
class SyncJob:
    """One sync of one connector into one workspace, as the queue keeps it."""

    workspace: str
    connector: str
    full: bool = False
    streams: tuple[str, ...] = ()
    #: the environment variable holding the credential on the workers (default: the
    #: connector's own, e.g. STRIPE_API_KEY, or cscor.toml's credential_env)
    credential_env: str | None = None
    base_url: str | None = None
    #: the provider account's rate in requests per second (default: the connector's)
    rate_limit: float | None = None
    #: which provider account's budget this sync draws on (default: one per credential)
    account: str | None = None
    #: attempts before the job is parked, and the first backoff in seconds (doubling)
    attempts: int = 5
    backoff: float = 10.0

    def __post_init__(self) -> None:
        _check_queued(self.workspace, self.attempts, self.backoff, "sync")

    @property
    def lock(self) -> str:
        """One running sync per (workspace, connector): the queue's lock and queueing lock."""
        return f"sync:{self.workspace}:{self.connector}"

    @property
    def title(self) -> str:
        return f"sync {self.connector} into {self.workspace}"

    def as_kwargs(self) -> dict[str, Any]:
        """The job's arguments as the queue stores them (JSON)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or value == f.default:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        out["workspace"], out["connector"] = self.workspace, self.connector
        return out

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> SyncJob:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in kwargs.items() if k in known}
        if "streams" in values:
            values["streams"] = tuple(values["streams"] or ())
        return cls(**values)

    def backoff_after(self, attempts_done: int) -> float:
        """Seconds before the next attempt: ``backoff``, doubling, at most an hour."""
        return backoff_after(self.backoff, attempts_done)


def backoff_after(backoff: float, attempts_done: int) -> float:
    """Seconds before the next attempt: ``backoff``, doubling, at most an hour."""
    return float(min(3600.0, backoff * 2 ** max(0, attempts_done - 1)))


def _check_queued(workspace: str, attempts: int, backoff: float, what: str) -> None:
    """What every queued job needs: a workspace all workers reach, named without a password."""
    problem = workspace_location_problem(workspace)
    if problem:
        raise ConfigError(problem)
    if not is_postgres_url(workspace):
        raise ConfigError(
            f"a queued {what} needs a PostgreSQL workspace (postgresql://…): workers on "
            "other machines cannot reach a SQLite file"
        )
    if urlsplit(workspace).password is not None:
        raise ConfigError(
            f"{redact_url(workspace)}: a queued job's workspace URL must not carry a "
            "password (job arguments are stored in the queue); give the workers the "
            "password in PGPASSWORD or ~/.pgpass"
        )
    if attempts < 1:
        raise ConfigError("a job needs at least 1 attempt")
    if backoff < 0:
        raise ConfigError("the backoff cannot be negative")


@dataclass(frozen=True)
class ExportJob:
    """One export of one workspace, as the queue keeps it; ``after``: the ids of the queued
    syncs it waits for (a named job's), whose success it needs."""

    workspace: str
    export: ExportSpec
    after: tuple[int, ...] = ()
    attempts: int = 5
    backoff: float = 10.0

    def __post_init__(self) -> None:
        _check_queued(self.workspace, self.attempts, self.backoff, "export")
        check_spec(self.export)
        out = self.export.out
        if not is_remote(out) and not Path(out).is_absolute():
            raise ConfigError(f"{out}: a queued export's --out must be an absolute path on the "
                              "workers, or object storage (s3://…)")
        if urlsplit(out).password is not None or urlsplit(out).username is not None:
            raise ConfigError("a queued export's --out must not carry a key or password "
                              "(job arguments are stored in the queue)")

    @property
    def lock(self) -> str:
        """One export to one place at a time (and one waiting)."""
        return f"export:{self.export.out.rstrip('/')}"

    @property
    def title(self) -> str:
        return f"export {redact_url(self.workspace)} to {self.export.out}"

    def as_kwargs(self) -> dict[str, Any]:
        """The job's arguments as the queue stores them (JSON)."""
        spec = {f.name: (list(v) if isinstance(v, tuple) else v)
                for f in dataclasses.fields(ExportSpec)
                if (v := getattr(self.export, f.name)) != f.default or f.name == "out"}
        out: dict[str, Any] = {"workspace": self.workspace, "export": spec}
        if self.after:
            out["after"] = list(self.after)
        if self.attempts != 5:
            out["attempts"] = self.attempts
        if self.backoff != 10.0:
            out["backoff"] = self.backoff
        return out

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> ExportJob:
        spec = dict(kwargs["export"])
        for key in ("entities", "partition_by"):
            if key in spec:
                spec[key] = tuple(spec[key] or ())
        return cls(kwargs["workspace"], ExportSpec(**spec),
                   after=tuple(kwargs.get("after") or ()),
                   attempts=int(kwargs.get("attempts", 5)),
                   backoff=float(kwargs.get("backoff", 10.0)))

    def backoff_after(self, attempts_done: int) -> float:
        return backoff_after(self.backoff, attempts_done)


def run_export_job(job: ExportJob, env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Write the job's export here and now; what was written (the result's summary).

    A half bundle at the destination is replaced: the job holds the destination's lock, so it
    is what an earlier attempt of an export there left when its worker died.
    """
    result = run_export(job.workspace, job.export, env=env, replace_unfinished=True)
    summary = result.as_dict()
    return {"run_id": summary["run_id"], "out": summary["out"], "rows": summary["rows"],
            "files": len(summary["files"])}


def run_sync_job(
    job: SyncJob,
    *,
    config: Config,
    budget: Callable[[], Any] | None,
    env: Mapping[str, str] = os.environ,
) -> SyncResult:
    """Run one sync job here and now; raises when the sync did not complete.

    ``budget`` connects to the database holding the shared account budgets (the queue's);
    None gives the sync a limiter of its own, as ``cscor sync`` has.
    """
    cls = load_connector(job.connector)
    credential_env = job.credential_env or config.connector(cls.name).credential_env \
        or cls.credential_env
    credential = None
    if credential_env and env.get(credential_env):
        credential = Secret(env[credential_env])
    elif job.credential_env:
        raise MissingCredentialError(cls.title, job.credential_env, connector=cls.name)
    settings = connector_settings(
        cls, config, base_url=job.base_url, streams=job.streams or None,
        rate_limit=job.rate_limit, credential=credential, env=env,
    )
    settings = dataclasses.replace(settings, credential_env=credential_env)
    limiter = None
    if budget is not None:
        account = account_key(cls.name, settings.credential, job.account)
        limiter = SharedRateLimiter(budget, account, settings.rate_limit, settings.burst)
        settings = dataclasses.replace(settings, limiter=limiter)
    connector = cls(settings)
    try:
        with open_store(job.workspace, create=True) as store:
            result = sync(store, connector, full=job.full)
    finally:
        connector.close()
        if limiter is not None:
            limiter.close()
    if result.status in ("failed", "partial"):
        failed = [s for s in result.streams if s.error]
        errors = "; ".join(f"{s.stream}: {s.error}" for s in failed)
        codes = sorted({ExitCode(s.error_code) for s in failed if s.error_code is not None})
        # Retried unless every failure needs a person (a refused key fails every stream).
        code = codes[0] if codes and set(codes) <= NOT_RETRIED else result.exit_code
        raise SyncJobError(f"{job.connector}: {result.status} (run #{result.run_id}): {errors}",
                           code)
    return result
