"""Paginators: how a list endpoint moves from one page to the next, walked so it cannot loop.

A :class:`Paginator` is a stateless scheme: which query parameters ask for the page at a
token, and, from a page just read, the token to go on from and whether another page follows.
A :class:`Walk` is one traversal with that scheme, and the one place that refuses what a
misbehaving provider (or a stand-in server with a bug) can send:

* a token seen before in the same walk — paging on would repeat pages forever;
* a page whose records were all seen already in this walk — the same, with fresh tokens;
* "more to come" after an empty page — a loop, or a silent stop if we trusted the emptiness.

Each ends the stream with a :class:`~cscor_tools.errors.PaginationLoopError` naming the
provider, stream, path and cursor: never an endless loop, never a silent stop.

A walk may also end on purpose part-way down a page: ``advance(…, until=…)`` stops at the
first record a stream has no use for (a newest-first list read down to the newest record
already held), keeps the records before it, and leaves the token after the last one kept.

Schemes here: ``starting_after`` + ``has_more`` (Stripe, Resend's ``after``), Stripe's
``ending_before`` (walking toward newer objects), Slack's ``response_metadata.next_cursor``,
keyset positions (``updated`` and ``id`` of the last record: a resumable, incremental walk),
and page numbers or offsets for providers that count.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from cscor_tools.errors import PaginationLoopError, UnexpectedResponseError

#: where a walk stands: an id, an opaque cursor, a number, or a keyset tuple
Token = str | int | tuple[Any, ...]
Params = list[tuple[str, Any]]


@dataclass(frozen=True)
class Step:
    """What a page says of the walk: the token to go on from, and whether a page follows.

    ``token`` is kept even after the last page where the scheme gives it a meaning (the
    keyset of the last record: the next run's walk starts there)."""

    token: Token | None
    more: bool


class Paginator(ABC):
    """One pagination scheme; ``limit`` is the page size asked for (None: the provider's)."""

    limit: int | None = None
    limit_param: str = "limit"

    def params(self, token: Token | None) -> Params:
        """The query parameters that ask for the page at ``token`` (None: the first page)."""
        size = [(self.limit_param, self.limit)] if self.limit is not None else []
        return size + ([] if token is None else self.token_params(token))

    @abstractmethod
    def token_params(self, token: Token) -> Params:
        """The parameters that carry ``token``."""

    @abstractmethod
    def step(self, body: Mapping[str, Any], records: list[dict[str, Any]],
             token: Token | None) -> Step:
        """Where to go on from after the page read at ``token``."""


def _has_more(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} is {type(value).__name__}, not a boolean")
    return value


@dataclass
class AfterIdPaginator(Paginator):
    """Newest first; the next page starts after the last record's id while ``has_more``
    (Stripe's ``starting_after``, Resend's ``after``)."""

    param: str = "starting_after"
    limit: int | None = 100
    more_key: str = "has_more"
    id_key: str = "id"
    limit_param: str = "limit"
    #: which record of a page the next one starts from
    edge: ClassVar[int] = -1

    def token_params(self, token: Token) -> Params:
        return [(self.param, token)]

    def step(self, body: Mapping[str, Any], records: list[dict[str, Any]],
             token: Token | None) -> Step:
        return Step(records[self.edge][self.id_key] if records else token,
                    _has_more(body, self.more_key))


@dataclass
class BeforeIdPaginator(AfterIdPaginator):
    """Toward newer records: each page holds those just newer than the token, newest first,
    so the next page starts before its first record (Stripe's ``ending_before``)."""

    param: str = "ending_before"
    edge: ClassVar[int] = 0


@dataclass
class NextCursorPaginator(Paginator):
    """An opaque cursor in the body; empty or absent on the last page (Slack's
    ``response_metadata.next_cursor``)."""

    param: str = "cursor"
    cursor_path: tuple[str, ...] = ("response_metadata", "next_cursor")
    limit: int | None = 200
    limit_param: str = "limit"

    def token_params(self, token: Token) -> Params:
        return [(self.param, token)]

    def step(self, body: Mapping[str, Any], records: list[dict[str, Any]],
             token: Token | None) -> Step:
        node: Any = body
        for key in self.cursor_path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is None or node == "":
            return Step(None, False)
        if not isinstance(node, str):
            raise ValueError(f"{'.'.join(self.cursor_path)} is {type(node).__name__}, "
                             "not a string")
        return Step(node, True)


@dataclass
class KeysetPaginator(Paginator):
    """Records in ascending ``fields`` order (e.g. ``updated`` then ``id``), each page after
    the last record's values while ``has_more``. The last position is a resume point even
    at the end, so a stream on this scheme is incremental by construction."""

    fields: tuple[str, ...] = ("updated", "id")
    params_for: tuple[str, ...] = ("after_updated", "after_id")
    limit: int | None = 100
    more_key: str = "has_more"
    limit_param: str = "limit"

    def token_params(self, token: Token) -> Params:
        values = token if isinstance(token, tuple | list) else (token,)
        return list(zip(self.params_for, values, strict=True))

    def step(self, body: Mapping[str, Any], records: list[dict[str, Any]],
             token: Token | None) -> Step:
        position = tuple(records[-1][f] for f in self.fields) if records else token
        return Step(position, _has_more(body, self.more_key))


@dataclass
class PageNumberPaginator(Paginator):
    """Numbered pages; a page shorter than ``limit`` is the last."""

    param: str = "page"
    first: int = 1
    limit: int | None = 100
    limit_param: str = "per_page"

    def params(self, token: Token | None) -> Params:
        return super().params(self.first if token is None else token)

    def token_params(self, token: Token) -> Params:
        return [(self.param, token)]

    def step(self, body: Mapping[str, Any], records: list[dict[str, Any]],
             token: Token | None) -> Step:
        current = self.first if token is None else int(token)  # type: ignore[arg-type]
        full = self.limit is not None and len(records) >= self.limit
        return Step(current + 1, True) if full else Step(None, False)


@dataclass
class OffsetPaginator(Paginator):
    """Offsets into the result; a page shorter than ``limit`` is the last."""

    param: str = "offset"
    limit: int | None = 100
    limit_param: str = "limit"

    def params(self, token: Token | None) -> Params:
        return super().params(0 if token is None else token)

    def token_params(self, token: Token) -> Params:
        return [(self.param, token)]

    def step(self, body: Mapping[str, Any], records: list[dict[str, Any]],
             token: Token | None) -> Step:
        current = 0 if token is None else int(token)  # type: ignore[arg-type]
        if self.limit is not None and len(records) >= self.limit:
            return Step(current + len(records), True)
        return Step(None, False)


class Walk:
    """One traversal of a list with one paginator: where it stands, and what it has seen.

    ``key`` names the field that identifies a record (the stream's primary key). The seen
    ids are kept for one walk only: a stream's slice, usually a few pages.
    """

    def __init__(
        self,
        paginator: Paginator,
        *,
        provider: str,
        path: str,
        stream: str | None = None,
        token: Token | None = None,
        key: str = "id",
    ) -> None:
        self.paginator = paginator
        self.provider = provider
        self.path = path
        self.stream = stream
        self.key = key
        #: where the walk stands: the token of the next page to ask for (None: the first)
        self.token = _hashable(token)
        self.pages = 0
        #: the records of the last page the walk took (all of it, or those before ``until``)
        self.kept: list[dict[str, Any]] = []
        #: True once ``until`` ended the walk part-way down a page
        self.ended = False
        self._tokens: set[Token] = set() if self.token is None else {self.token}
        self._ids: set[Any] = set()

    def params(self) -> Params:
        """The pagination parameters of the next page."""
        return self.paginator.params(self.token)

    def restart(self) -> None:
        """Go back to the first page before any was read (the token a resumed walk started
        from is gone at the provider)."""
        if self.pages:
            raise RuntimeError("a walk restarts only before its first page")
        self.token = None

    def advance(self, body: Any, records: list[dict[str, Any]], *,
                until: Callable[[dict[str, Any]], bool] | None = None) -> bool:
        """Take in the page just read at ``token``; True when another page follows.

        ``until`` ends the walk at the first record it accepts (asked of each record in
        order, up to that one): ``kept`` then holds the records before it, ``ended`` is
        True, no page follows whatever the provider said, and ``token`` stands after the
        last record kept (the page's start if none was). Without it, ``kept`` is the page.

        Raises UnexpectedResponseError for a page that does not say where to go next, and
        PaginationLoopError when going on would loop (see the module docstring)."""
        if self.ended:
            raise RuntimeError("the walk ended part-way down its last page")
        ids = [self._id_of(r) for r in records]
        if ids and all(i in self._ids for i in ids):
            self._loop("a page whose records were all seen already in this walk")
        step = self._step(body, records)
        following = _hashable(step.token)
        if step.more and not records:
            self._loop("an empty page said more would follow")
        if step.more and following in self._tokens:
            self._loop(f"the next page's cursor {following!r} was seen before in this walk")
        self._ids.update(ids)
        self.pages += 1
        self.kept = records
        stop = _first(records, until) if until is not None else None
        if stop is not None:
            self.kept, self.ended = records[:stop], True
            following = _hashable(self._step(body, self.kept).token)
            step = Step(following, False)
        self.token = following
        if step.more and following is not None:
            self._tokens.add(following)
        return step.more

    def _step(self, body: Any, records: list[dict[str, Any]]) -> Step:
        try:
            return self.paginator.step(body, records, self.token)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UnexpectedResponseError(
                self.provider, f"the page does not say how to go on ({exc})",
                stream=self.stream, path=self.path) from None

    def _id_of(self, record: Any) -> Any:
        value = record.get(self.key) if isinstance(record, Mapping) else None
        if value is None or value == "" or isinstance(value, dict | list):
            raise UnexpectedResponseError(
                self.provider, f"a record without a usable {self.key!r}", stream=self.stream,
                path=self.path)
        return value

    def _loop(self, what: str) -> None:
        raise PaginationLoopError(self.provider, what, cursor=self.token, stream=self.stream,
                                  path=self.path)


def _first(records: list[dict[str, Any]], until: Callable[[dict[str, Any]], bool]) -> int | None:
    """The index of the first record ``until`` accepts (None: none does)."""
    for i, record in enumerate(records):
        if until(record):
            return i
    return None


def _hashable(token: Any) -> Token | None:
    """A token as a walk keeps it: a keyset read back from JSON (a list) becomes a tuple."""
    return tuple(token) if isinstance(token, list) else token
