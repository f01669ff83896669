"""Several provider accounts on one sandbox port, each with its own credential, data and limit.

A hosted Customerscor syncs many workspaces, each from its own Stripe (Resend, Slack) account,
and a provider limits each account apart. :class:`SandboxAccounts` stands in for that on one
machine: every account is a whole sandbox of its own (its world from its own seed, its own
rate limiter, stats and faults), and the server routes each request by the credential it
carries, as a provider does. Account ``acme``'s Stripe key is ``sk_test_sandbox_acme``; an
unknown key gets the provider's own refusal.

    with SandboxAccounts(["acme", "globex"], scale=0.2, rate_limit={"stripe": 10}) as sb:
        sb.base_url("stripe")                   # one URL for every account
        sb.credentials("acme", "stripe")        # sk_test_sandbox_acme
        sb.account("globex").expected_counts()  # what a complete listing returns

The admin endpoints of an account are under ``/_sandbox/accounts/NAME/…``.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, cast

from cscor_tools.sandbox.admin import AdminCalls, admin_in_process, handle_admin
from cscor_tools.sandbox.app import ADMIN_PREFIX, Delivery, SandboxApp, provider_of
from cscor_tools.sandbox.config import (
    CREDENTIALS,
    PROVIDERS,
    Knobs,
    SandboxConfig,
    Volumes,
)
from cscor_tools.sandbox.errors import SandboxError
from cscor_tools.sandbox.running import Running
from cscor_tools.sandbox.server import SandboxServer
from cscor_tools.sandbox.wire import Request, Response
from cscor_tools.sandbox.world import World

_ACCOUNTS_PREFIX = f"{ADMIN_PREFIX}accounts/"


def account_credential(account: str, provider: str) -> str:
    """The key an account's requests to ``provider`` carry."""
    return f"{CREDENTIALS[provider]}_{account}"


def _presented_key(req: Request) -> str | None:
    """The credential in a request's Authorization header (Bearer, or Stripe's Basic)."""
    scheme, _, value = (req.header("authorization") or "").partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[0]
        except ValueError:
            return None
    return value if scheme.lower() == "bearer" else None


class AccountsApp:
    """Routes each request to the account whose credential it carries."""

    def __init__(self, apps: Mapping[str, SandboxApp]) -> None:
        if not apps:
            raise ValueError("at least one account")
        self.apps = dict(apps)
        self._by_key = {
            account_credential(name, provider): (name, provider)
            for name in self.apps for provider in PROVIDERS
        }

    def dispatch(self, req: Request) -> Delivery:
        if req.path.startswith(_ACCOUNTS_PREFIX):
            name, _, rest = req.path[len(_ACCOUNTS_PREFIX):].partition("/")
            app = self.apps.get(name)
            if app is None:
                return Delivery(Response.json(404, {"error": f"no account {name!r}"}))
            return Delivery(handle_admin(app, dataclasses.replace(req,
                                                                  path=ADMIN_PREFIX + rest)))
        provider = provider_of(req.path)
        owner = self._by_key.get(_presented_key(req) or "")
        if provider is None or owner is None or owner[1] != provider:
            # Not one of ours: the first account's provider refuses it in its own words.
            return next(iter(self.apps.values())).dispatch(req)
        headers = {**req.headers, "authorization": f"Bearer {CREDENTIALS[provider]}"}
        return self.apps[owner[0]].dispatch(dataclasses.replace(req, headers=headers))


class AccountHandle(AdminCalls):
    """One account of a running :class:`SandboxAccounts`: its data and its counters."""

    def __init__(self, name: str, app: SandboxApp) -> None:
        self.name = name
        self.app = app

    @property
    def world(self) -> World:
        return self.app.world

    def credentials(self, provider: str) -> str:
        return account_credential(self.name, provider)

    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        return admin_in_process(self.app, method, path, payload)


class SandboxAccounts(Running):
    """A sandbox serving several accounts on one 127.0.0.1 port (in a thread of this process).

    Account ``i`` (in the order given) generates its world from ``seed + i``; ``scale`` and
    named volumes size every account alike; ``rate_limit`` is each account's own limit
    (requests per second, one number or a mapping per provider), ``latency_ms`` each
    response's delay.
    """

    def __init__(
        self,
        accounts: int | Sequence[str],
        *,
        seed: int = 0,
        scale: float = 1.0,
        latency_ms: float = 0.0,
        rate_limit: float | Mapping[str, float | None] | None = None,
        burst: int | None = None,
        port: int = 0,
        **volumes: Any,
    ) -> None:
        names = [f"a{i:03d}" for i in range(accounts)] if isinstance(accounts, int) \
            else list(accounts)
        if not names or len(set(names)) != len(names):
            raise ValueError("accounts need distinct names, at least one")
        for name in names:
            if not name or not all(c.isalnum() or c in "-_" for c in name):
                raise ValueError(f"account name {name!r}: letters, digits, - and _ only")
        knobs = Knobs(latency_ms=latency_ms, rate_limit=Knobs.rate_limits(rate_limit),
                      burst=burst)
        self.names = names
        self.configs = {
            name: SandboxConfig(seed=seed + i, volumes=Volumes.from_scale(scale, **volumes),
                                knobs=knobs)
            for i, name in enumerate(names)
        }
        self.port = port
        self._server: SandboxServer | None = None
        self._app: AccountsApp | None = None

    def start(self) -> SandboxAccounts:
        if self._server is not None:
            return self
        apps = {n: SandboxApp(World(c), c.knobs) for n, c in self.configs.items()}
        self._app = AccountsApp(apps)
        try:
            # The server only calls ``dispatch``, which the router has as an app has.
            self._server = SandboxServer(cast(SandboxApp, self._app), self.port)
        except OSError as err:
            raise SandboxError(f"cannot listen on 127.0.0.1:{self.port}: {err}") from err
        self._server.start_background()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _served_url(self) -> str | None:
        return None if self._server is None else self._server.url

    def credentials(self, account: str, provider: str) -> str:
        if account not in self.configs:
            raise ValueError(f"no account {account!r}")
        return account_credential(account, provider)

    def account(self, name: str) -> AccountHandle:
        if self._app is None:
            raise SandboxError("the sandbox is not running")
        try:
            return AccountHandle(name, self._app.apps[name])
        except KeyError:
            raise ValueError(f"no account {name!r}") from None

    @property
    def internal_errors(self) -> list[str]:
        return list(self._server.internal_errors) if self._server else []
