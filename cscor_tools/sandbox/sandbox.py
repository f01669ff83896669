"""The public handle on a running sandbox: start it, point clients at it, change it, ask it.

In a background thread of this process by default; in a subprocess with ``process=True``, so
that a benchmark's client does not share a GIL with the server it measures. Either way the
same calls work: in a subprocess they travel through the admin endpoints.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import IO, Any

from cscor_tools.sandbox.admin import AdminCalls, admin_answer, admin_body, admin_in_process
from cscor_tools.sandbox.app import SandboxApp
from cscor_tools.sandbox.config import (
    CREDENTIALS_ENV,
    DEFAULT_ANCHOR,
    FaultKind,
    Knobs,
    SandboxConfig,
    Volumes,
    accepted_credentials,
)
from cscor_tools.sandbox.errors import SandboxError
from cscor_tools.sandbox.mutate import MutationSummary
from cscor_tools.sandbox.running import Running
from cscor_tools.sandbox.server import SandboxServer
from cscor_tools.sandbox.world import World

#: how long a subprocess may take to generate its world and start listening
START_TIMEOUT = 180.0


class Sandbox(Running, AdminCalls):
    """A local Stripe, Resend and Slack, from seeded data, on one 127.0.0.1 port.

    >>> with Sandbox(seed=7, scale=0.1) as sb:                      # doctest: +SKIP
    ...     client = stripe.StripeClient(sb.credentials("stripe"),
    ...                                  base_addresses={"api": sb.base_url("stripe")})
    ...     customers = list(client.v1.customers.list({"limit": 100}).auto_paging_iter())
    ...     assert len(customers) == sb.expected_counts()["stripe.customers"]

    ``scale`` multiplies every default count (:class:`Volumes`); a count given by name
    (``customers=20_000``, ``invoices_per_customer=3``, ``emails=…``) overrides it.
    ``rate_limit`` is requests per second for every provider, or a mapping per provider.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        scale: float = 1.0,
        latency_ms: float = 0.0,
        per_object_latency_ms: float = 0.0,
        rate_limit: float | Mapping[str, float | None] | None = None,
        burst: int | None = None,
        fault_rate: float = 0.0,
        faults: str | Iterable[str | FaultKind] = tuple(FaultKind),
        slow_body_ms: float = 2000.0,
        slack_non_marketplace: bool = False,
        anchor: datetime = DEFAULT_ANCHOR,
        port: int = 0,
        process: bool = False,
        credentials: Mapping[str, str | None] | None = None,
        **volumes: Any,
    ) -> None:
        knobs = Knobs(
            latency_ms=latency_ms,
            per_object_latency_ms=per_object_latency_ms,
            rate_limit=Knobs.rate_limits(rate_limit),
            burst=burst,
            fault_rate=fault_rate,
            faults=FaultKind.parse(faults),
            slow_body_ms=slow_body_ms,
            slack_non_marketplace=slack_non_marketplace,
        )
        self.config = SandboxConfig(
            seed=seed, volumes=Volumes.from_scale(scale, **volumes), knobs=knobs,
            anchor=anchor, port=port, credentials=accepted_credentials(credentials),
        )
        self.process = process
        self._server: SandboxServer | None = None
        self._app: SandboxApp | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._child_errors: IO[bytes] | None = None
        self._url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._url is not None:
            return self
        if self.config.port:
            check_port(self.config.port)  # before the data: generating it may take a while
        if self.process:
            self._start_child()
        else:
            self._app = SandboxApp(World(self.config), self.config.knobs,
                                   self.config.credentials)
            try:
                self._server = SandboxServer(self._app, self.config.port)
            except OSError as err:
                raise SandboxError(f"cannot listen on 127.0.0.1:{self.config.port}: {err}") from err
            self._server.start_background()
            self._url = self._server.url
        return self

    def _start_child(self) -> None:
        command = [sys.executable, "-m", "cscor_tools.sandbox", "--config-json",
                   json.dumps(self.config.to_dict())]
        # stderr goes to a file, not a pipe: a pipe nobody reads could fill and block the child
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop(): it outlives this call
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               CREDENTIALS_ENV: json.dumps(dict(self.config.credentials))}
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=errors, env=env)
        self._child, self._child_errors = child, errors
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], START_TIMEOUT)
        line = child.stdout.readline() if ready else b""
        if not line:
            child.kill()
            child.wait(timeout=10)
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()[-2000:] or "timed out"
            self.stop()
            raise SandboxError(f"the sandbox subprocess did not start: {detail}")
        self._url = json.loads(line)["url"]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._child is not None:
            child, self._child = self._child, None
            if child.stdin is not None:
                child.stdin.close()  # the child stops when its stdin closes
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()
        if self._child_errors is not None:
            self._child_errors.close()
            self._child_errors = None
        self._url = None

    # -- where and how to connect ------------------------------------------------------------

    def _served_url(self) -> str | None:
        return self._url

    def credentials(self, provider: str) -> str:
        """The credential the sandbox accepts for a provider (a fixed fake one, unless the
        sandbox was given one)."""
        return self.config.credentials[provider]

    # -- the world ---------------------------------------------------------------------------

    @property
    def world(self) -> World:
        """The generated data itself (in-thread sandboxes only)."""
        if self._app is None:
            raise SandboxError("the world lives in the subprocess; use the admin calls")
        return self._app.world

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of sandbox bugs hit while serving (in-thread sandboxes only)."""
        return list(self._server.internal_errors) if self._server else []

    def mutate(self, *, create: float = 0.02, update: float = 0.05, delete: float = 0.01,
               counts: Mapping[str, Mapping[str, int]] | None = None,
               days: float = 1.0) -> MutationSummary:
        """Advance the clock and create, update and delete objects; see ``mutate.mutate``."""
        payload: dict[str, Any] = {"create": create, "update": update, "delete": delete,
                                   "days": days}
        if counts is not None:
            payload["counts"] = {k: dict(v) for k, v in counts.items()}
        return MutationSummary.from_dict(self._admin("POST", "/_sandbox/mutate", payload))

    def advance(self, *, days: float = 0.0, hours: float = 0.0, seconds: float = 0.0) -> datetime:
        """Move the sandbox clock forward (events older than 30 days then drop out)."""
        now = self._admin("POST", "/_sandbox/advance",
                          {"days": days, "hours": hours, "seconds": seconds})["now"]
        return datetime.fromisoformat(now)

    def reset_stats(self) -> None:
        self._admin("POST", "/_sandbox/stats/reset")

    def info(self) -> dict[str, Any]:
        return dict(self._admin("GET", "/_sandbox/info"))

    def warm(self) -> int:
        """Serialize every Stripe object now, so measurements skip first-touch costs."""
        return int(self._admin("POST", "/_sandbox/warm")["objects"])

    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        if self._app is not None:
            return admin_in_process(self._app, method, path, payload)
        body = admin_body(payload)
        request = urllib.request.Request(self.url + path, data=body or None, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=300) as reply:
                status, raw = reply.status, reply.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except OSError as err:
            raise SandboxError(f"the sandbox at {self.url} did not answer: {err}") from err
        return admin_answer(status, raw)


def check_port(port: int) -> None:
    """SandboxError unless 127.0.0.1:``port`` can be listened on now."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        probe.bind(("127.0.0.1", port))
    except OSError as err:
        raise SandboxError(f"cannot listen on 127.0.0.1:{port}: {err.strerror or err}") from None
    finally:
        probe.close()
