"""The sandbox's own endpoints under ``/_sandbox/``: mutate, move the clock, change knobs, read
stats and the expected truth. The Python API uses them when the server runs in a subprocess.

    GET  /_sandbox/                this index (``ENDPOINTS``), as JSON
    GET  /_sandbox/health          {"ok": true}
    GET  /_sandbox/info            seed, clock, volumes, knobs, generation time, API version
    GET  /_sandbox/stats           per provider: requests, statuses, 429s, faults, objects
    POST /_sandbox/stats/reset
    GET  /_sandbox/expected        live object counts per kind
    GET  /_sandbox/ids?kind=K      the ids a full listing of K returns, newest first
    POST /_sandbox/mutate          {"create", "update", "delete", "counts", "days"} → summary
    POST /_sandbox/advance         {"days", "hours", "seconds"} → {"now"}
    GET  /_sandbox/knobs           current knobs
    POST /_sandbox/knobs           a partial knobs object → the knobs now in force
    POST /_sandbox/warm            serialize every Stripe object now → {"objects"}

They take no credential: the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cscor_tools.sandbox.config import FaultKind, Knobs
from cscor_tools.sandbox.mutate import mutate
from cscor_tools.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from cscor_tools.sandbox.app import SandboxApp


#: (method, path, what it does): what GET /_sandbox/ lists
ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/_sandbox/", "this index"),
    ("GET", "/_sandbox/health", '{"ok": true}'),
    ("GET", "/_sandbox/info", "seed, clock, volumes, knobs, generation time, API version"),
    ("GET", "/_sandbox/stats", "per provider: requests, statuses, 429s, faults, objects"),
    ("POST", "/_sandbox/stats/reset", "start the stats afresh"),
    ("GET", "/_sandbox/expected", "live object counts per kind"),
    ("GET", "/_sandbox/ids?kind=K", "the ids a full listing of K returns, newest first"),
    ("POST", "/_sandbox/mutate", '{"create", "update", "delete", "counts", "days"} → summary'),
    ("POST", "/_sandbox/advance", '{"days", "hours", "seconds"} → {"now"}'),
    ("GET", "/_sandbox/knobs", "current knobs"),
    ("POST", "/_sandbox/knobs", "a partial knobs object → the knobs now in force"),
    ("POST", "/_sandbox/warm", 'serialize every Stripe object now → {"objects"}'),
)


class _BadRequest(Exception):
    pass


def _body(req: Request) -> dict[str, Any]:
    if not req.body:
        return {}
    try:
        data = json.loads(req.body)
    except ValueError as err:
        raise _BadRequest(f"the body is not JSON: {err}") from None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    return data


def merge_knobs(current: Knobs, changes: dict[str, Any]) -> Knobs:
    """Knobs with some fields changed; ``rate_limit`` may be one number for all providers."""
    changes = dict(changes)
    if "rate_limit" in changes:
        changes["rate_limit"] = Knobs.rate_limits(changes["rate_limit"])
    if "faults" in changes:
        changes["faults"] = tuple(changes["faults"])
    Knobs.from_dict({**current.to_dict(), **changes})  # validates names and values
    return replace(current, **changes)


def handle_admin(app: SandboxApp, req: Request) -> Response:
    world = app.world
    route = (req.method, req.path.rstrip("/"))
    try:
        if route == ("GET", "/_sandbox"):
            return Response.json(200, {
                "sandbox": "cscor_tools",
                "providers": {"stripe": "/v1/", "slack": "/api/", "resend": "/"},
                "endpoints": [{"method": m, "path": p, "description": d}
                              for m, p, d in ENDPOINTS],
            })
        if route == ("GET", "/_sandbox/health"):
            return Response.json(200, {"ok": True})
        if route == ("GET", "/_sandbox/info"):
            return Response.json(200, {
                "seed": world.config.seed,
                "now": world.now().isoformat(),
                "volumes": world.config.volumes.to_dict(),
                "knobs": app.knobs.to_dict(),
                "generation_seconds": round(world.generation_seconds, 3),
                "stripe_api_version": world.stripe.account.api_version,
                "mutations": world.mutations,
            })
        if route == ("GET", "/_sandbox/stats"):
            return Response.json(200, app.stats.snapshot())
        if route == ("POST", "/_sandbox/stats/reset"):
            app.stats.reset()
            return Response.json(200, {"ok": True})
        if route == ("GET", "/_sandbox/expected"):
            return Response.json(200, world.counts())
        if route == ("GET", "/_sandbox/ids"):
            kind = req.flat.get("kind", "")
            try:
                return Response.json(200, world.ids(kind))
            except KeyError:
                raise _BadRequest(f"unknown kind {kind!r}") from None
        if route == ("POST", "/_sandbox/mutate"):
            args = _body(req)
            allowed = {"create", "update", "delete", "counts", "days"}
            if set(args) - allowed:
                raise _BadRequest(f"unknown argument(s) {sorted(set(args) - allowed)}")
            try:
                summary = mutate(world, **args)
            except (TypeError, ValueError) as err:
                raise _BadRequest(str(err)) from None
            return Response.json(200, summary.to_dict())
        if route == ("POST", "/_sandbox/advance"):
            args = _body(req)
            try:
                delta = timedelta(**{k: float(v) for k, v in args.items()})
                now = world.advance(delta)
            except (TypeError, ValueError) as err:
                raise _BadRequest(str(err)) from None
            return Response.json(200, {"now": now.isoformat()})
        if route == ("GET", "/_sandbox/knobs"):
            return Response.json(200, app.knobs.to_dict())
        if route == ("POST", "/_sandbox/knobs"):
            try:
                app.configure(merge_knobs(app.knobs, _body(req)))
            except (TypeError, ValueError) as err:
                raise _BadRequest(str(err)) from None
            return Response.json(200, app.knobs.to_dict())
        if route == ("POST", "/_sandbox/warm"):
            return Response.json(200, {"objects": world.warm()})
    except _BadRequest as err:
        return Response.json(400, {"error": str(err)})
    return Response.json(404, {"error": f"no admin endpoint {req.method} {req.path}"})


def admin_in_process(app: SandboxApp, method: str, path: str, payload: Any = None) -> Any:
    """An admin call answered by ``app`` in this process, without HTTP."""
    target, _, query = path.partition("?")
    response = handle_admin(app, Request(method, target, query, {}, admin_body(payload)))
    return admin_answer(response.status, response.body)


def admin_body(payload: Any) -> bytes:
    return json.dumps(payload).encode() if payload is not None else b""


def admin_answer(status: int, raw: bytes) -> Any:
    data = json.loads(raw)
    if status >= 400:
        raise ValueError(data.get("error", f"admin call failed with HTTP {status}"))
    return data


class AdminCalls:
    """What a sandbox's admin endpoints tell and change, for whatever reaches them through
    ``_admin``: a :class:`Sandbox`, or one account of several (``accounts.py``)."""

    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        raise NotImplementedError

    def configure(self, **changes: Any) -> Knobs:
        """Change latency, rate limits or faults while running; bucket and fault counts reset."""
        if "faults" in changes:
            changes["faults"] = [k.value for k in FaultKind.parse(changes["faults"])]
        return Knobs.from_dict(self._admin("POST", "/_sandbox/knobs", changes))

    def stats(self) -> dict[str, Any]:
        return dict(self._admin("GET", "/_sandbox/stats"))

    def expected_counts(self) -> dict[str, int]:
        """How many objects of each kind a complete listing returns now."""
        return dict(self._admin("GET", "/_sandbox/expected"))

    def expected_ids(self, kind: str) -> list[str]:
        """The ids a complete listing of ``kind`` (e.g. ``stripe.customers``) returns."""
        return list(self._admin("GET", f"/_sandbox/ids?kind={kind}"))
