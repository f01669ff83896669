"""Shared helpers of the Slack connector tests: a connector on a sandbox, a counting transport."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cscor_tools.connectors import ConnectorSettings, Secret
from cscor_tools.connectors.slack import SlackConnector
from cscor_tools.connectors.slack.pacing import TIER4_PER_S, method_of
from cscor_tools.sandbox import Sandbox
from cscor_tools.store import Store, open_store
from cscor_tools.sync import SyncResult, sync

REPO = Path(__file__).resolve().parents[3]
CASSETTES = REPO / "cassettes" / "slack"
#: time in the sandbox runs this much faster than Slack's minute (Tier 1: 10 calls a second)
FAST = 600.0

Hook = Callable[[httpx.Request, str, int], "httpx.Response | None"]


class Counting(httpx.BaseTransport):
    """The real transport, counting calls by Slack method; ``hook(request, method, n)`` may
    answer in the server's place (n: the how-many-th call of that method)."""

    def __init__(self, hook: Hook | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.hook = hook
        self.calls: Counter[str] = Counter()
        self.params: list[tuple[str, dict[str, str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        method = method_of(request.url.path)
        self.calls[method] += 1
        self.params.append((method, dict(request.url.params)))
        if self.hook is not None:
            answer = self.hook(request, method, self.calls[method])
            if answer is not None:
                return answer
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def connector(sb: Sandbox, *, scale: float = FAST, transport: httpx.BaseTransport | None = None,
              token: str | None = None, **options: Any) -> SlackConnector:
    """A Slack connector on the sandbox, its time ``scale`` times faster than Slack's."""
    settings = ConnectorSettings(
        base_url=sb.base_url("slack"), credential=Secret(token or sb.credentials("slack")),
        credential_env="SLACK_BOT_TOKEN", rate_limit=TIER4_PER_S * scale, burst=1,
        concurrency=8, options=options, transport=transport, max_attempts=6)
    return SlackConnector(settings)


def run(store: Store, sb: Sandbox, *, full: bool = False, **kw: Any) -> tuple[SyncResult,
                                                                             SlackConnector]:
    with connector(sb, **kw) as c:
        return sync(store, c, full=full), c


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "workspace.db")
    try:
        yield s
    finally:
        s.close()


def rows(store: Store, entity: str) -> dict[str, dict[str, Any]]:
    return {r["source_id"]: r for batch in store.iter_rows(entity) for r in batch}
