"""Messages: each channel's history, incremental by ``ts`` with a lookback, and its threads.

One slice per conversation. A channel is read newest first from now back to the newest
message the last run saw minus the lookback (7 days by default; everything on a first or
``--full`` run), so edits and deletions within the lookback are seen: a message the last run
saw there and this one does not becomes a tombstone. ``conversations.replies`` is called
only for a thread whose ``reply_count`` or ``latest_reply`` differs from what the last run
saw (every thread on a full run); the replies it no longer lists become tombstones too.

What a run must remember per channel (:class:`ChannelState`, in the stream's cursor): the
newest ``ts`` seen, the ``ts`` of the messages within the lookback of it, the threads whose
parents are there (their reply count, latest reply and replies' ``ts``), and how many
messages, threads and replies the channel holds (for the next run's ETA). Each page's
cursor carries the same for a channel part read, so a killed sync resumes at its page. A
history page may hold many threads, each a ``conversations.replies`` call (a minute each
on the budget of apps outside the Marketplace): the replies of each thread read are
checkpointed at once, with the token of their history page and the ``ts`` of the last
message taken from it, so a run stopped part-way down a page (an outage, a kill) asks again
for that one history page, not for the replies it had.

A channel the app is not a member of, or that answers ``not_in_channel`` or
``channel_not_found``, is not read: the run summary says which and why, and every other
channel is. Slack does not list replies to a thread whose parent is older than the
lookback in the history of the lookback: those are caught once the parent is within the
lookback, or by a ``--full`` run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cscor_tools.connectors.base import Page, Slice, Stream, check_records
from cscor_tools.connectors.pagination import NextCursorPaginator, Walk
from cscor_tools.connectors.slack.client import SlackChannelError
from cscor_tools.connectors.slack.normalize import MESSAGE, message_id, message_row
from cscor_tools.connectors.slack.pacing import PAGE, Budget
from cscor_tools.errors import BadRequestError, UnexpectedResponseError
from cscor_tools.records import ChangeSet, Cursor, Output, StreamState, Tombstone
from cscor_tools.schema import utc_now

if TYPE_CHECKING:
    from cscor_tools.connectors.slack.connector import SlackConnector

HISTORY = "conversations.history"
REPLIES = "conversations.replies"
LIST = "conversations.list"
GONE = "deleted at Slack: gone from its channel's history within the lookback"
GONE_REPLY = "deleted at Slack: gone from its thread"


def _ts(value: str) -> Decimal:
    return Decimal(value)


def ts_minus(ts: str, seconds: float) -> str:
    return f"{_ts(ts) - Decimal(str(seconds)):.6f}"


@dataclass
class Thread:
    """What a run saw of one thread: its parent's counters and its replies' ``ts``."""

    replies: int
    latest: str | None
    seen: list[str] = field(default_factory=list)


@dataclass
class ChannelState:
    """What the next run needs of one channel (see the module docstring)."""

    newest: str | None = None
    window: list[str] = field(default_factory=list)
    threads: dict[str, Thread] = field(default_factory=dict)
    messages: int = 0
    thread_count: int = 0
    reply_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ChannelState:
        if not data:
            return cls()
        threads = {ts: Thread(**t) for ts, t in (data.get("threads") or {}).items()}
        return cls(data.get("newest"), list(data.get("window") or ()), threads,
                   int(data.get("messages") or 0), int(data.get("thread_count") or 0),
                   int(data.get("reply_count") or 0))


@dataclass
class Progress:
    """A channel part read: the walk's token, what was seen so far, and the counts."""

    token: str | None = None
    newest: str | None = None
    #: ts of top-level messages read, from ``keep_from`` on (tombstones compare these)
    seen: list[str] = field(default_factory=list)
    threads: dict[str, Thread] = field(default_factory=dict)
    #: True when the channel is read from its first message (no lookback bound)
    whole: bool = False
    read: int = 0
    thread_total: int = 0
    reply_total: int = 0
    new_messages: int = 0
    new_threads: int = 0
    new_replies: int = 0
    complete: bool = False
    failed: bool = False
    #: stopped part-way down the history page at ``token``: the ts of the last message
    #: taken from it (the messages down to it are in the counts above)
    done: str | None = None

    def to_cursor(self) -> Cursor:
        return asdict(self)

    @classmethod
    def from_cursor(cls, data: Mapping[str, Any] | None) -> Progress:
        if not data:
            return cls()
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["threads"] = {ts: Thread(**t) for ts, t in (data.get("threads") or {}).items()}
        return cls(**fields)


class MessagesStream(Stream):
    """``conversations.history`` and ``.replies`` → notifications, one slice a channel."""

    name = "messages"
    entities = ("notifications",)
    primary_key = "ts"
    cursor_field = "ts"
    connector: SlackConnector

    # -- planning -----------------------------------------------------------------------------

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        saved = (state.cursor or {}).get("channels") or {}
        pacing = self.connector.pacing
        if (state.cursor or {}).get("budget") in tuple(Budget):
            pacing.assume(Budget((state.cursor or {})["budget"]))
        slices = []
        for conversation in self.conversations():
            cid = conversation["id"]
            prev = ChannelState.from_dict(saved.get(cid))
            member = bool(conversation.get("is_member") or conversation.get("is_im"))
            oldest = None
            if not full and prev.newest is not None:
                oldest = ts_minus(prev.newest, self.connector.lookback_s)
            slices.append(Slice(cid, {"name": conversation.get("name") or cid,
                                      "member": member, "oldest": oldest, "full": full,
                                      "prev": prev}))
            if not member:
                continue
            # what this run should take, for the ETA: the last run's counts where known
            if prev.newest is None:
                pacing.expect(HISTORY, [1])
            elif full:
                pacing.expect(HISTORY, [prev.messages])
                if prev.thread_count:
                    each = prev.reply_count // prev.thread_count + 1
                    pacing.expect(REPLIES, [each] * prev.thread_count)
            else:
                pacing.expect(HISTORY, [len(prev.window)])
        return slices

    def conversations(self) -> Iterator[dict[str, Any]]:
        """Every conversation the token can see (a planning listing)."""
        walk = Walk(NextCursorPaginator(limit=PAGE), provider=self.provider, path=LIST,
                    stream=self.name)
        types = self.connector.conversation_types()
        while True:
            body = self.http.get(LIST, params=[("types", types), ("exclude_archived", "false"),
                                               *walk.params()]).data
            records = _records(self, body, "channels", LIST)
            more = walk.advance(body, records)
            yield from records
            if not more:
                return

    # -- reading ------------------------------------------------------------------------------

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        cid, p = slice.key, slice.params
        name, prev = p["name"], p["prev"]
        if not p["member"]:
            yield Page([], Progress(failed=True, complete=True).to_cursor(), last=True,
                       warnings=(f"#{name} ({cid}): the app is not a member, so its messages "
                                 "were not read; invite it to the channel to read them",))
            return
        full, oldest = bool(p["full"]), p["oldest"]
        progress = Progress.from_cursor(cursor) if cursor else Progress(whole=oldest is None)
        walk = Walk(NextCursorPaginator(limit=PAGE), provider=self.provider, path=HISTORY,
                    stream=self.name, token=progress.token, key="ts")
        pacing = self.connector.pacing
        while True:
            at = walk.token
            params = [("channel", cid), *([("oldest", oldest)] if oldest else []),
                      *walk.params()]
            try:
                body = self.http.get(HISTORY, params=params).data
            except SlackChannelError as exc:
                yield Page([], Progress(failed=True, complete=True).to_cursor(), last=True,
                           warnings=(f"#{name} ({cid}): {exc}; this channel was not read, "
                                     "the others were",))
                return
            messages = _records(self, body, "messages", HISTORY)
            more = walk.advance(body, messages)
            if progress.done is not None:  # resumed part-way down this page
                messages = [m for m in messages if _ts(str(m["ts"])) < _ts(progress.done)]
            stones: list[Tombstone] = []
            records: list[dict[str, Any]] = []
            for i, message in enumerate(messages):
                called = self._take(cid, message, prev, progress, full, stones, records)
                if called and i < len(messages) - 1:  # keep the replies just read
                    progress.token = None if at is None else str(at)
                    progress.done = str(message["ts"])
                    extra = ChangeSet(tombstones={"notifications": stones}) if stones else None
                    yield Page(records, progress.to_cursor(), last=False, extra=extra)
                    stones, records = [], []
            progress.done = None
            progress.token = str(walk.token) if more and walk.token is not None else None
            if not more:
                progress.complete = True
                stones += self._gone(cid, prev, progress, oldest, full)
            extra = ChangeSet(tombstones={"notifications": stones}) if stones else None
            note = pacing.budget_note()
            pacing.report_eta()
            yield Page(records, progress.to_cursor(), last=not more, extra=extra,
                       warnings=(note,) if note else ())
            if not more:
                return

    def _take(self, cid: str, message: dict[str, Any], prev: ChannelState,
              progress: Progress, full: bool, stones: list[Tombstone],
              out: list[dict[str, Any]]) -> bool:
        """A top-level message, and the replies of its thread if it changed, into ``out``;
        True when its replies were asked for."""
        lookback = self.connector.lookback_s
        ts = str(message["ts"])
        message["channel"] = cid
        out.append(message)
        if progress.newest is None or _ts(ts) > _ts(progress.newest):
            progress.newest = ts
        progress.read += 1
        if prev.newest is None or _ts(ts) > _ts(prev.newest):
            progress.new_messages += 1
        keep_from = _ts(ts_minus(progress.newest, lookback))
        if prev.newest is not None:
            keep_from = min(keep_from, _ts(ts_minus(prev.newest, lookback)))
        if _ts(ts) > keep_from:
            progress.seen.append(ts)
        replies = self._thread(cid, message, prev, progress, full, stones, keep_from)
        if replies is None:
            return False
        out += replies
        return True

    def _thread(self, cid: str, parent: dict[str, Any], prev: ChannelState, progress: Progress,
                full: bool, stones: list[Tombstone],
                keep_from: Decimal) -> list[dict[str, Any]] | None:
        """The replies of the thread ``parent`` starts, when it changed (None: not asked)."""
        ts = str(parent["ts"])
        count = int(parent.get("reply_count") or 0) if parent.get("thread_ts") == ts else 0
        latest = parent.get("latest_reply")
        if count:
            progress.thread_total += 1
            progress.reply_total += count
        known = prev.threads.get(ts)
        if count == 0 and known is None:
            return None
        if not full and known is not None and (known.replies, known.latest) == (count, latest):
            if _ts(ts) > keep_from:
                progress.threads[ts] = known  # unchanged: no call
            return None
        replies: list[dict[str, Any]] = []
        if count:
            if known is None and (not full or prev.newest is None):
                self.connector.pacing.expect(REPLIES, [count + 1])  # found, not foreseen
            listed = self._replies(cid, ts)
            if listed is None:  # the thread went between history and replies
                return None
            replies = listed
        seen = [str(r["ts"]) for r in replies]
        if known is not None:
            stones += [Tombstone(message_id(cid, r), utc_now(), GONE_REPLY)
                       for r in set(known.seen) - set(seen)]
        if known is None:
            progress.new_threads += 1 if count else 0
        progress.new_replies += count - (known.replies if known else 0)
        if _ts(ts) > keep_from and count:
            progress.threads[ts] = Thread(count, latest, seen)
        return replies

    def _replies(self, cid: str, ts: str) -> list[dict[str, Any]] | None:
        """Every reply of a thread (its parent comes from the history)."""
        walk = Walk(NextCursorPaginator(limit=PAGE), provider=self.provider, path=REPLIES,
                    stream=self.name, key="ts")
        out: list[dict[str, Any]] = []
        while True:
            params = [("channel", cid), ("ts", ts), *walk.params()]
            try:
                body = self.http.get(REPLIES, params=params).data
            except BadRequestError as exc:
                if exc.code == "thread_not_found":
                    return None
                raise
            page = _records(self, body, "messages", REPLIES)
            more = walk.advance(body, page)
            for reply in page:
                if str(reply["ts"]) != ts:
                    reply["channel"] = cid
                    out.append(reply)
            if not more:
                return out

    def _gone(self, cid: str, prev: ChannelState, progress: Progress, oldest: str | None,
              full: bool) -> list[Tombstone]:
        """Messages the last run saw in this run's range that this run did not."""
        seen = set(progress.seen)
        now = utc_now()
        stones = []
        for ts in prev.window:
            if (full or oldest is None or _ts(ts) > _ts(oldest)) and ts not in seen:
                stones.append(Tombstone(message_id(cid, ts), now, GONE))
                thread = prev.threads.get(ts)
                stones += [Tombstone(message_id(cid, r), now, GONE) for r in
                           (thread.seen if thread else ())]
        return stones

    # -- after the run ------------------------------------------------------------------------

    def normalize(self, raw: dict[str, Any]) -> Iterable[Output]:
        yield "notifications", message_row(raw, raw["channel"], self.connector.links,
                                           synced_at=utc_now())

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        """Each channel's state for the next run; channels not read keep their last one."""
        channels = dict((state.cursor or {}).get("channels") or {})
        lookback = self.connector.lookback_s
        for cid, cursor in slice_cursors.items():
            progress = Progress.from_cursor(cursor)
            if progress.failed or not progress.complete or progress.newest is None:
                continue
            prev = ChannelState.from_dict(channels.get(cid))
            start = _ts(ts_minus(progress.newest, lookback))
            window = sorted((t for t in progress.seen if _ts(t) > start), key=_ts)
            threads = {t: th for t, th in progress.threads.items() if _ts(t) > start}
            state_now = ChannelState(progress.newest, window, threads)
            if progress.whole:  # counted from the first message: exact
                state_now.messages = progress.read
                state_now.thread_count = progress.thread_total
                state_now.reply_count = progress.reply_total
            else:  # the lookback only: the last counts, moved by what changed
                gone = len(set(prev.window) - set(progress.seen))
                state_now.messages = max(0, prev.messages + progress.new_messages - gone)
                state_now.thread_count = prev.thread_count + progress.new_threads
                state_now.reply_count = max(0, prev.reply_count + progress.new_replies)
            channels[cid] = state_now.to_dict()
        budget = self.connector.pacing.budget
        if budget is Budget.UNKNOWN:
            budget = Budget((state.cursor or {}).get("budget") or Budget.UNKNOWN)
        return {"channels": channels, "budget": str(budget)}


def _records(stream: Stream, body: Any, key: str, method: str) -> list[dict[str, Any]]:
    records = body.get(key) if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UnexpectedResponseError(stream.provider, f"{method}: {key!r} is not a list of "
                                      "objects", stream=stream.name, path=f"/{method}")
    if key == "messages":  # their ts orders and resumes the read before rows are made
        check_records(stream, records, MESSAGE, path=f"/{method}")
    return records
