"""After an outage, Resend and Slack continue part-way down a page, not from its start.

A page of Resend contacts costs a request per contact (their topics), a page of Slack history
a ``conversations.replies`` call per changed thread. The provider goes down once some of
those calls were answered, for longer than the retry budget; the next run must ask only for
what was not yet committed (plus the one listing page it resumes in), and end exact.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.reliability import Wrapped, differences, snapshot, sync_into
from cscor_tools.config import Config, ConnectorConfig
from cscor_tools.connectors.resend.streams import TOPICS_CHECKPOINT
from cscor_tools.sandbox import Sandbox

#: (connector, the request path of a costly call, calls answered before the outage, costly
#: calls a resumed run may ask again beyond those never answered)
CASES = [
    pytest.param("resend", r"/contacts/[^/]+/topics", 23, TOPICS_CHECKPOINT,
                 id="resend-contact-topics"),
    pytest.param("slack", r"/conversations\.replies", 11, 0, id="slack-thread-replies"),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=14, scale=0.2) as sb:
        yield sb


class Counting:
    """Counts the costly calls answered; once ``down_after`` were, answers 503 to all."""

    def __init__(self, costly: str, down_after: int | None = None) -> None:
        self.costly, self.down_after = costly, down_after
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request, n: int) -> httpx.Response | None:
        kind = "costly" if re.search(self.costly, request.url.path) else "other"
        with self.lock:
            if self.down_after is not None and self.calls["costly"] >= self.down_after:
                return httpx.Response(503, headers={"retry-after": "0"},
                                      json={"error": {"message": "down for maintenance"}})
            self.calls[kind] += 1
        return None


@pytest.mark.parametrize(("name", "costly", "answered", "again"), CASES)
def test_the_run_after_an_outage_asks_only_for_what_was_not_committed(
    sandbox: Sandbox, tmp_path: Path, name: str, costly: str, answered: int, again: int,
) -> None:
    clean = Counting(costly)
    reference = str(tmp_path / "reference.db")
    sync_into(name, sandbox, reference, transport=Wrapped(clean))
    full = clean.calls["costly"]
    assert full > answered + again, "the sandbox is too small for this test"

    location = str(tmp_path / "outage.db")
    outage = Counting(costly, down_after=answered)
    failed = sync_into(name, sandbox, location, transport=Wrapped(outage),
                       config=Config(connectors={name: ConnectorConfig(max_attempts=2)}))
    assert str(failed.status) in ("failed", "partial")
    assert outage.calls["costly"] == answered

    resumed_calls = Counting(costly)
    resumed = sync_into(name, sandbox, location, transport=Wrapped(resumed_calls))
    print(f"{name}: {full} costly calls in a full run, {answered} answered before the "
          f"outage, {resumed_calls.calls['costly']} in the run after it; requests "
          f"{int(resumed.requests['requests'])} after the outage, "
          f"{clean.calls['costly'] + clean.calls['other']} for a full run")
    assert str(resumed.status) == "succeeded"
    assert resumed_calls.calls["costly"] <= full - answered + again
    assert resumed.requests["requests"] < clean.calls["costly"] + clean.calls["other"]
    assert differences(snapshot(location), snapshot(reference)) == 0
