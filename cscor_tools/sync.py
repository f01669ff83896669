"""The sync engine: read a connector's streams concurrently, write page by page, resumably.

Worker threads read slices (under the connector's shared rate limiter) and normalize pages;
the calling thread alone writes: each page's rows and the cursor that follows them commit in
one transaction. A sync killed at any moment therefore resumes from the last committed page,
and since rows are upserted by id, a page read twice is written once. Slice cursors carry a
reserved ``_done`` key so a resumed run skips the slices that had finished.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from cscor_tools.connectors.base import Connector, Page, Slice, Stream
from cscor_tools.errors import CscorError, ExitCode, ProviderError
from cscor_tools.gc_tuning import lean_gc
from cscor_tools.privacy.guard import WriteGuard
from cscor_tools.records import ChangeSet, Cursor, CursorUpdate, StreamState
from cscor_tools.runs import RunStatus
from cscor_tools.store.base import Store

log = logging.getLogger("cscor_tools.sync")

DONE = "_done"
#: at most this many waiting pages are written in one transaction
GROUP_COMMIT_PAGES = 32


@dataclass
class StreamResult:
    """How one stream fared in a run."""

    stream: str
    entities: list[str]
    status: str = "pending"  # ok | failed | cancelled
    slices: int = 0
    pages: int = 0
    #: provider records read (compare with rows written: one record may make several rows)
    objects: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    #: the exit code the error calls for (see errors.ExitCode), when the stream failed
    error_code: int | None = None
    warnings: list[str] = field(default_factory=list)
    reconciled: bool = False
    #: rows of erased people dropped or anonymized before they were stored, by entity
    suppressed: dict[str, int] = field(default_factory=dict)


@dataclass
class SyncResult:
    """The summary of one connector's sync run, as kept in the run log."""

    connector: str
    run_id: int
    status: RunStatus  # succeeded | reconciled | partial | failed
    full: bool
    streams: list[StreamResult]
    requests: dict[str, float]
    duration_s: float

    @property
    def reconciled(self) -> bool:
        """Whether a reconcile scan ran, whatever else happened (a partial run may have one)."""
        return any(s.reconciled for s in self.streams)

    @property
    def exit_code(self) -> ExitCode:
        if self.status == RunStatus.SUCCEEDED:
            return ExitCode.OK
        if self.status == RunStatus.RECONCILED:
            return ExitCode.RECONCILED
        codes = {s.error_code for s in self.streams if s.error_code is not None}
        if self.status == RunStatus.FAILED and len(codes) == 1:
            # Every stream failed for the same kind of reason (a revoked key, say): say which.
            return ExitCode(codes.pop())
        return ExitCode.PARTIAL

    def rows(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for s in self.streams:
            for k, v in s.rows.items():
                total[k] = total.get(k, 0) + v
        return total

    def suppressed(self) -> dict[str, int]:
        """Rows of erased people dropped or anonymized before they were stored, by entity."""
        total: dict[str, int] = {}
        for s in self.streams:
            for k, v in s.suppressed.items():
                total[k] = total.get(k, 0) + v
        return total

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SyncObserver(Protocol):
    """What a progress display or log sees of a run."""

    def stream_started(self, connector: str, stream: str, slices: int) -> None: ...

    def page_written(self, connector: str, stream: str, rows: dict[str, int]) -> None: ...

    def stream_finished(self, connector: str, result: StreamResult) -> None: ...


class LoggingObserver:
    """Reports progress as structured log records (JSON lines when logs are JSON)."""

    def stream_started(self, connector: str, stream: str, slices: int) -> None:
        log.info(
            "stream started",
            extra={"event": "stream_started", "connector": connector, "stream": stream,
                   "slices": slices},
        )

    def page_written(self, connector: str, stream: str, rows: dict[str, int]) -> None:
        log.debug(
            "page written",
            extra={"event": "page", "connector": connector, "stream": stream, "rows": rows},
        )

    def stream_finished(self, connector: str, result: StreamResult) -> None:
        level = logging.ERROR if result.status == "failed" else logging.INFO
        log.log(
            level,
            "stream finished",
            extra={"event": "stream_finished", "connector": connector, **asdict(result)},
        )


@dataclass(frozen=True)
class _Read:
    """What the writer needs of a page once it is normalized (not its records)."""

    cursor: Cursor | None
    last: bool
    objects: int
    warnings: tuple[str, ...]
    reconciled: bool

    @classmethod
    def of(cls, page: Page) -> _Read:
        return cls(page.cursor, page.last, len(page.records), page.warnings, page.reconciled)


@dataclass
class _Task:
    stream: Stream
    slice: Slice
    cursor: Cursor | None


def sync(
    store: Store,
    connector: Connector,
    *,
    full: bool = False,
    observer: SyncObserver | None = None,
) -> SyncResult:
    """Sync one connector into the store; returns the run summary (also kept in the run log).

    Incremental by default: each stream continues from its cursor, and unfinished slices of
    an interrupted run are resumed whatever ``full`` says. ``full`` rescans what is complete.
    Raises WorkspaceLockedError at once if a sync of the same connector is running.
    """
    observer = observer or LoggingObserver()
    name = connector.name
    with store.lock(f"sync:{name}"):
        store.interrupt_stale_runs("sync", name)
        streams = connector.streams()
        run_id = store.start_run(
            "sync",
            name,
            {"full": full, "streams": [s.name for s in streams], **connector.run_details()},
        )
        started = time.perf_counter()
        try:
            with lean_gc():
                results = _Run(store, connector, streams, full, observer).execute()
        except BaseException as exc:
            status = (RunStatus.INTERRUPTED if isinstance(exc, KeyboardInterrupt)
                      else RunStatus.FAILED)
            store.finish_run(run_id, status, error=_describe(exc),
                             counts={"requests": connector.stats.as_dict()})
            raise
        status = _overall_status(results)
        result = SyncResult(
            connector=name,
            run_id=run_id,
            status=status,
            full=full,
            streams=results,
            requests=connector.stats.as_dict(),
            duration_s=round(time.perf_counter() - started, 3),
        )
        errors = [f"{r.stream}: {r.error}" for r in results if r.error]
        suppressed = result.suppressed()
        store.finish_run(
            run_id,
            status,
            counts={"rows": result.rows(), "requests": result.requests,
                    **({"suppressed": suppressed} if suppressed else {})},
            error="; ".join(errors) or None,
            details={
                "full": full,
                "duration_s": result.duration_s,
                "streams": [asdict(r) for r in results],
                **connector.run_details(),
            },
        )
    return result


def _overall_status(results: Sequence[StreamResult]) -> RunStatus:
    failed = [r for r in results if r.status != "ok"]
    if failed and len(failed) == len(results):
        return RunStatus.FAILED
    if failed:
        return RunStatus.PARTIAL
    if any(r.reconciled for r in results):
        return RunStatus.RECONCILED
    return RunStatus.SUCCEEDED


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CscorError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"internal error: {type(exc).__name__}: {exc}"


class _Run:
    """One execution of a connector's streams: workers read, this thread writes."""

    def __init__(
        self,
        store: Store,
        connector: Connector,
        streams: list[Stream],
        full: bool,
        observer: SyncObserver,
    ) -> None:
        self.store = store
        self.connector = connector
        self.streams = streams
        self.full = full
        self.observer = observer
        self.stop = threading.Event()
        self.finished: set[str] = set()
        self.failed: dict[str, threading.Event] = {s.name: threading.Event() for s in streams}
        # Normalized pages wait here for the writer: a few per reader keep the writer busy,
        # and every waiting page is memory (a page of invoices is megabytes of rows).
        self.queue: queue.Queue[tuple[str, _Task, Any]] = queue.Queue(
            maxsize=max(2, connector.settings.concurrency)
        )
        # Privacy: erased people stay erased, corrections stay made (loaded once per run).
        self.guard = WriteGuard.load(store)

    def execute(self) -> list[StreamResult]:
        name = self.connector.name
        results: dict[str, StreamResult] = {}
        states: dict[str, StreamState] = {}
        self.slice_cursors: dict[str, dict[str, Cursor | None]] = {}
        tasks: list[_Task] = []
        for stream in self.streams:
            states[stream.name] = self.store.load_state(name, stream.name)
            results[stream.name] = StreamResult(stream.name, list(stream.entities))
            self.slice_cursors[stream.name] = {}
        plans = self._plan(states)
        for stream in self.streams:
            state, result, planned = states[stream.name], results[stream.name], plans[stream.name]
            if isinstance(planned, Exception):  # planning asks the provider: fail this stream
                self.observer.stream_started(name, stream.name, 0)
                self._fail(result, planned)
                continue
            result.slices = len(planned)
            for sl in planned:
                saved = state.slices.get(sl.key)
                if saved and saved.get(DONE):
                    self.slice_cursors[stream.name][sl.key] = _strip(saved)
                    continue
                tasks.append(_Task(stream, sl, _strip(saved) if saved else None))
            self.observer.stream_started(name, stream.name, len(planned))

        remaining = {s.name: 0 for s in self.streams}
        for t in tasks:
            remaining[t.stream.name] += 1
        outstanding = len(tasks)
        workers = max(1, min(self.connector.settings.concurrency, outstanding or 1))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sync-{name}")
        try:
            for task in tasks:
                pool.submit(self._read, task)
            while outstanding:
                items = self._next_items()
                pages = [item for item in items if item[0] == "page"]
                if pages:
                    self._write(pages, results)
                for kind, task, payload in items:
                    if kind == "page":
                        continue
                    stream = task.stream
                    result = results[stream.name]
                    outstanding -= 1
                    remaining[stream.name] -= 1
                    if kind == "error":
                        self._fail(result, payload)
                    elif kind == "end" and not payload:
                        # The slice ended without a page marked last: mark it done now.
                        last = self.slice_cursors[stream.name].get(task.slice.key)
                        self.store.apply(
                            ChangeSet(),
                            CursorUpdate(name, stream.name, task.slice.key,
                                         {**(last or {}), DONE: True}),
                        )
                    if remaining[stream.name] == 0:
                        self._finish_stream(stream, states[stream.name], result)
            for stream in self.streams:  # streams that had nothing (left) to read
                if stream.name not in self.finished:
                    self._finish_stream(stream, states[stream.name], results[stream.name])
        except BaseException:
            self.stop.set()
            self._drain()
            raise
        finally:
            pool.shutdown(wait=not self.stop.is_set(), cancel_futures=True)
        return [results[s.name] for s in self.streams]

    def _plan(self, states: dict[str, StreamState]) -> dict[str, list[Slice] | Exception]:
        """Every stream's slices, or the error its planning raised.

        Planning asks the provider where the data starts and ends (a few round trips per
        stream), so streams plan at once, each ``Stream.plan`` on a thread of its own: one
        after another, the round trips would add up to a second or more of idle rate limit
        at the start of every run. A stream that needs the others' plans
        (``plans_after_others``) plans once they are done.
        """

        def plan(stream: Stream) -> list[Slice] | Exception:
            try:
                if stream.plans_after_others:
                    done = {n: p for n, p in plans.items() if not isinstance(p, Exception)}
                    return stream.plan(states[stream.name], full=self.full, planned=done)
                return stream.plan(states[stream.name], full=self.full)
            except Exception as exc:
                return exc

        first = [s for s in self.streams if not s.plans_after_others]
        plans: dict[str, list[Slice] | Exception] = {}
        if first:
            pool = ThreadPoolExecutor(max_workers=len(first),
                                      thread_name_prefix=f"plan-{self.connector.name}")
            try:
                plans.update(zip((s.name for s in first), pool.map(plan, first), strict=True))
            except BaseException:  # Ctrl-C: do not wait for the plans still asking
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
        for stream in self.streams:
            if stream.plans_after_others:
                plans[stream.name] = plan(stream)
        return plans

    def _next_items(self) -> list[tuple[str, _Task, Any]]:
        """The next queued item, and every item already waiting behind it (up to a bound):
        written together, they cost one transaction instead of one each."""
        items = [self.queue.get()]
        while len(items) < GROUP_COMMIT_PAGES:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _fail(self, result: StreamResult, exc: BaseException) -> None:
        if result.status != "failed":
            result.status = "failed"
            if isinstance(exc, ProviderError):
                exc.name_stream(result.stream)
            result.error = _describe(exc)
            result.error_code = int(
                exc.exit_code if isinstance(exc, CscorError) else ExitCode.INTERNAL
            )
            if not isinstance(exc, CscorError):
                log.error("stream %s crashed", result.stream, exc_info=exc)
        self.failed[result.stream].set()

    def _write(
        self, pages: list[tuple[str, _Task, Any]], results: dict[str, StreamResult]
    ) -> None:
        """Write pages, each stream's merged into one change set, with every page's cursor,
        in one transaction."""
        merged: dict[str, tuple[ChangeSet, dict[str, CursorUpdate]]] = {}
        for _, task, (page, changes) in pages:
            name = task.stream.name
            bucket, cursors = merged.setdefault(name, (ChangeSet(), {}))
            bucket.merge(changes)
            cursor = dict(page.cursor or {})
            if page.last:
                cursor[DONE] = True
            # Only the latest cursor of a slice matters: it follows all the rows before it.
            cursors[task.slice.key] = CursorUpdate(
                self.connector.name, name, task.slice.key, cursor
            )
            self.slice_cursors[name][task.slice.key] = page.cursor
            result = results[name]
            result.pages += 1
            result.objects += page.objects
            for w in page.warnings:
                if w not in result.warnings:
                    result.warnings.append(w)
            result.reconciled = result.reconciled or page.reconciled
        order = list(merged)
        if self.guard.active:
            for stream_name in order:
                _screen(self.guard, merged[stream_name][0], results[stream_name])
        written = self.store.apply_many(
            [(merged[n][0], list(merged[n][1].values())) for n in order]
        )
        if self.guard.active:
            self.guard.settle(self.store)
        for name, counts in zip(order, written, strict=True):
            result = results[name]
            for key, n in counts.items():
                result.rows[key] = result.rows.get(key, 0) + n
            self.observer.page_written(self.connector.name, name, counts)

    def _finish_stream(self, stream: Stream, state: StreamState, result: StreamResult) -> None:
        self.finished.add(stream.name)
        if result.status == "pending":
            final = stream.finish(state, self.slice_cursors[stream.name])
            self.store.finish_stream(self.connector.name, stream.name, final)
            result.status = "ok"
        self.observer.stream_finished(self.connector.name, result)

    def _read(self, task: _Task) -> None:
        """Worker: read a slice's pages and hand them, normalized, to the writing thread."""
        failed = self.failed[task.stream.name]
        last_flag = False
        try:
            for page in task.stream.read(task.slice, task.cursor):
                if self.stop.is_set() or failed.is_set():
                    self._put(("cancelled", task, None))
                    return
                changes = task.stream.changes(page)
                # The writer needs the rows, not the provider's JSON: let the records go now.
                self._put(("page", task, (_Read.of(page), changes)))
                last_flag = page.last
            self._put(("end", task, last_flag))
        except BaseException as exc:
            self._put(("error", task, exc))

    def _put(self, item: tuple[str, _Task, Any]) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _drain(self) -> None:
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return


def _screen(guard: WriteGuard, changes: ChangeSet, result: StreamResult) -> None:
    """Pass a change set's rows through the privacy guard before they are written."""
    for entity, rows in changes.upserts.items():
        kept, suppressed = guard.screen(entity, rows)
        changes.upserts[entity] = kept
        if suppressed:
            result.suppressed[entity] = result.suppressed.get(entity, 0) + suppressed


def _strip(cursor: Cursor) -> Cursor:
    return {k: v for k, v in cursor.items() if k != DONE}

