"""Lists Resend gives newest first, with cursors and no date filter, read with two cursors.

A list that cannot be asked "what changed since" is read from both ends:

* the **head** walks from the top down to the newest record the workspace already has, and
  stops there: an incremental run costs the pages of what is new;
* the **backfill** walks from its low-water mark (the oldest record read so far) down to the
  end of the list: a first sync that was interrupted finishes the older remainder on the next
  run instead of skipping it, while that run's head picks up what arrived meanwhile.

Both are slices of the kit's engine, so each page is written with the cursor that follows it
and a killed run resumes at the page it stopped at. A stream may also re-read a **window** of
recent records each run (emails: their ``last_event`` moves on after sending): the head then
walks on past the newest known record until it is ``window_days`` older than the newest
record of the list (Resend's clock, not ours), and counts the records whose status changed.
The head ends part-way down a page, where it passes the newest known record (or the window):
the kit's :class:`~cscor_tools.connectors.pagination.Walk` ends there (``until``), and this
stream walks its pages itself for what rides in its cursors (the top of the list, the window).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from cscor_tools.connectors.base import Page, Slice
from cscor_tools.connectors.pagination import AfterIdPaginator, Walk
from cscor_tools.connectors.resend.normalize import parse_time
from cscor_tools.connectors.rest import RestStream
from cscor_tools.records import Cursor, StreamState

BACKFILL = "backfill"
HEAD = "head:"
#: at most this many recent statuses are remembered to count changes (ids and a word each)
MAX_STATUSES = 50_000


@dataclass
class Marks:
    """A newest-first stream's cursor between runs."""

    newest: str | None = None
    newest_at: str | None = None
    #: the oldest record the backfill has read, and whether it reached the end of the list
    low: str | None = None
    complete: bool = False
    #: recent records' statuses, to count what changed in the next run's window
    statuses: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, cursor: Mapping[str, Any] | None) -> Marks:
        c = cursor or {}
        return cls(c.get("newest"), c.get("newest_at"), c.get("low"), bool(c.get("complete")),
                   dict(c.get("statuses") or {}))

    def as_cursor(self) -> Cursor:
        out: Cursor = {"newest": self.newest, "newest_at": self.newest_at, "low": self.low,
                       "complete": self.complete}
        if self.statuses:
            out["statuses"] = self.statuses
        return out


def _at(record: Mapping[str, Any]) -> str | None:
    moment = parse_time(record.get("created_at"))
    return moment.isoformat() if moment else None


@dataclass
class Descent:
    """Where a head walking down a newest-first list stops: asked of each record in turn
    (the walk's ``until``), it notes when the walk passes the newest record held before
    (``stop``, or anything older than ``stop_at``), and stops at the first record past that
    which is outside the re-read window (there is none without a window)."""

    key: str
    stop: str | None
    stop_at: str | None
    passed: bool
    window_from: str | None
    #: records of the page read again only for the window
    rereads: int = 0

    def __call__(self, record: Mapping[str, Any]) -> bool:
        at = _at(record)
        if not self.passed and (record.get(self.key) == self.stop or (
                at is not None and self.stop_at is not None and at < self.stop_at)):
            self.passed = True
        if not self.passed:
            return False
        if self.window_from is None or at is None or at < self.window_from:
            return True
        self.rereads += 1
        return False


class NewestFirstStream(RestStream):
    """A newest-first Resend list read by a head and a backfill (see the module docstring)."""

    paginator = AfterIdPaginator(param="after", limit=100)
    #: the connector option naming the re-read window in days (None: no window)
    window_option: ClassVar[str | None] = None
    default_window_days: ClassVar[float] = 0.0
    #: the record field whose changes the window counts
    status_field: ClassVar[str] = "last_event"

    def __init__(self, connector: Any) -> None:
        super().__init__(connector)
        self._lock = threading.Lock()
        self._previous: dict[str, str] = {}
        self._statuses: dict[str, str] = {}
        self._window_covered = False
        #: what this run did, for the run log (see ``summary``)
        self.status_changes = 0
        self.window_requests = 0

    @property
    def window(self) -> timedelta:
        days = self.default_window_days
        if self.window_option:
            days = float(self.connector.settings.options.get(self.window_option, days))
        return timedelta(days=max(0.0, days))

    # -- planning -----------------------------------------------------------------------------

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        marks = Marks.of(state.cursor)
        self._previous = marks.statuses
        slices: list[Slice] = []
        heads = {k: c for k, c in state.slices.items() if k.startswith(HEAD)}
        unfinished = [k for k, c in heads.items() if not c.get("_done")]
        if unfinished:  # resume the head a killed run left (the engine gives its cursor)
            key = unfinished[0]
            saved = heads[key]
            slices.append(Slice(key, {"stop": saved.get("stop"), "stop_at": saved.get("stop_at")}))
        else:
            top, top_at = marks.newest, marks.newest_at
            for saved in state.slices.values():
                if saved.get("top") and (top_at is None or (saved.get("top_at") or "") > top_at):
                    top, top_at = saved["top"], saved.get("top_at")
            if top is not None and not full:
                number = 1 + max((int(k[len(HEAD):]) for k in heads), default=0)
                slices.append(Slice(f"{HEAD}{number}", {"stop": top, "stop_at": top_at}))
        if full or not marks.complete or BACKFILL in state.slices:
            low = None if full else marks.low
            slices.append(Slice(BACKFILL, {"start": low}))
        return slices

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        marks = Marks.of(state.cursor)
        for key, cursor in slice_cursors.items():
            c = cursor or {}
            if c.get("top") and (marks.newest_at is None or (c.get("top_at") or "") >
                                 marks.newest_at):
                marks.newest, marks.newest_at = c["top"], c.get("top_at")
            if key == BACKFILL:
                marks.low = c.get("token", marks.low)
                marks.complete = True  # finish runs once every slice is done
        if self.window:
            statuses = self._statuses if self._window_covered else {**self._previous,
                                                                     **self._statuses}
            marks.statuses = dict(list(statuses.items())[:MAX_STATUSES])
        return marks.as_cursor()

    # -- reading ------------------------------------------------------------------------------

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        saved = dict(cursor or {})
        head = slice.key.startswith(HEAD)
        start = saved.get("token", None if head else slice.params.get("start"))
        walk = Walk(self.paginator, provider=self.provider, path=self.path, stream=self.name,
                    token=start, key=self.primary_key)
        # what the pass found at the top of the list (kept in every page's cursor)
        top, top_at = saved.get("top"), saved.get("top_at")
        from_top = start is None
        stop, stop_at = slice.params.get("stop"), slice.params.get("stop_at")
        passed = bool(saved.get("passed"))
        window_from = saved.get("window_from")
        while True:
            response = self.fetch(self.path, [*self.params, *walk.params()], walk)
            records = self.records_of(response.data, self.path)
            if from_top and top is None and records:
                top, top_at = records[0][self.primary_key], _at(records[0])
            if window_from is None and top_at is not None and self.window and from_top:
                window_from = (datetime.fromisoformat(top_at) - self.window).isoformat()
            descent = Descent(self.primary_key, stop, stop_at, passed, window_from)
            ended = not walk.advance(response.data, records, until=descent if head else None)
            kept, passed, rereads = walk.kept, descent.passed, descent.rereads
            self._remember(kept, window_from)
            if head and passed and rereads == len(records):
                with self._lock:
                    self.window_requests += 1
            if ended and head and window_from is not None:
                self._window_covered = True
            if ended and not head and from_top and window_from is not None:
                self._window_covered = True
            page: Cursor = {"token": walk.token, "top": top, "top_at": top_at,
                            "window_from": window_from}
            if head:
                page.update(stop=stop, stop_at=stop_at, passed=passed)
            yield Page(kept, page, last=ended,
                       warnings=self.warnings_of(response, path=self.path))
            if ended:
                return

    def _remember(self, records: list[dict[str, Any]], window_from: str | None) -> None:
        """Note the statuses of records inside the window, counting those that changed."""
        if window_from is None:
            return
        changed = 0
        with self._lock:
            for record in records:
                at = _at(record)
                status = record.get(self.status_field)
                if at is None or at < window_from or not isinstance(status, str):
                    continue
                rid = record[self.primary_key]
                before = self._previous.get(rid)
                if before is not None and before != status:
                    changed += 1
                self._statuses[rid] = status
            self.status_changes += changed

    def summary(self) -> dict[str, int]:
        """What this run did beyond its rows: status changes seen, requests of the window."""
        if not self.window:
            return {}
        return {"status_changes": self.status_changes,
                "window_requests": self.window_requests}
