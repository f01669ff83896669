"""Slack's rate limits: each Web API method paced to its own budget, learned from the answers.

Slack limits every method apart, in tiers of calls a minute per workspace and app (Tier 1:
1+, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+; ``auth.test`` is "special", counted here as
Tier 4). Since 2025, apps that are not in the Slack Marketplace get one
``conversations.history`` and one ``conversations.replies`` call a minute, 15 messages each.

Which budget applies is not announced: it is learned from what Slack answers. A history or
replies page that holds 15 messages or fewer while more follow, though we asked for 200, is
the non-Marketplace budget; a page of more than 15 is not. Until one page has told, history
and replies calls go one at a time, at the smaller budget's pace or, when the last run learned
the Marketplace budget, at that one's: learning costs no 429 (the first call goes at once,
and usually tells), or one where the budget changed since the last run. A 429 (with Retry-After)
holds back that method alone for as long as Slack asked, and slows it by 30% (it climbs back
once refusals stop); a 429 before any page told is itself the answer. Other methods carry on.

Time. The connector's configured rate (``--rate-limit``, ``rate_limit`` in cscor.toml) is
the Tier 4 rate; every other budget keeps Slack's proportion to it. The default,
100/60 requests a second, is Slack's real minute; a sandbox that compresses time (24 times:
20 history calls a second) is matched by ``--rate-limit 40``. Each method is paced at
:data:`SHARE` of its budget: the rest absorbs the jitter between our clock and Slack's.

The ETA. What is left is known in calls (channels, pages of history at the current page
size, threads to read, from the last run's counts and what this run has found), and each
method's pace is known: the time left is the slowest method's calls left at its pace
(methods run side by side), reported as the run goes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

log = logging.getLogger("cscor_tools.connectors.slack")

#: calls a minute by method, from the tier Slack's documentation gives each
TIER_PER_MINUTE: dict[str, float] = {
    "auth.test": 100.0,
    "team.info": 50.0,
    "users.list": 20.0,
    "conversations.list": 20.0,
    "conversations.history": 50.0,
    "conversations.replies": 50.0,
}
#: the fastest tier's calls a second at Slack's real minute: the default request rate
TIER4_PER_S = 100.0 / 60.0
#: methods the 2025 terms limit for apps outside the Marketplace
HISTORY_METHODS = frozenset({"conversations.history", "conversations.replies"})
NON_MARKETPLACE_PER_MINUTE = 1.0
NON_MARKETPLACE_PAGE = 15
#: messages asked for a page otherwise (Slack advises no more than 200)
PAGE = 200
#: the share of each budget we use
SHARE = 0.95
#: …and of a budget of one call a minute: a call that comes early there costs the whole
#: minute (a 429 with Retry-After up to 60 s), one 10% late costs 6 s
TIER1_SHARE = 0.9
#: …plus this much wall-clock time per call there: a thread that wakes late or a request
#: slowed on the way makes the next call arrive early by as much, and that delay does not
#: shrink with the budget (nothing at Slack's real minute, all of a time-compressed test's
#: margin: 3 refusals in 2,063 calls at 300 times Slack's pace without it)
JITTER_S = 0.05
#: a refusal multiplies the pace by this; each quiet call after gives back a twentieth
CUT = 0.7
#: ETA reports at most this often (seconds)
ETA_EVERY_S = 5.0


class Budget(StrEnum):
    """Which budget history and replies calls get."""

    UNKNOWN = "unknown"
    MARKETPLACE = "marketplace"
    NON_MARKETPLACE = "non_marketplace"


def method_of(path: str) -> str:
    """The Web API method a request path names (``/api/conversations.history`` → …)."""
    return path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class MethodPacer:
    """Spaces one method's calls to its budget; a caller waits for the next free slot.

    Waiters are woken when their slot comes or when the pace changes (``pause`` or a
    budget learned), and take the next slot in turn. It measures how well it used the
    budget: the calls granted while someone was waiting, over the time someone was waiting,
    is the rate it achieved when work was queued (``achieved``): a call that waited was
    bound by the budget from the call before it to its own."""

    def __init__(self, method: str, per_minute: float, scale: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.method = method
        self._clock = clock
        self._cond = threading.Condition()
        self._last: float | None = None
        self._paused_until = 0.0
        self.calls = 0
        self.rate_limited = 0
        self.saturated_s = 0.0
        self.saturated_calls = 0
        self.set_budget(per_minute, scale)

    def set_budget(self, per_minute: float, scale: float) -> None:
        with self._cond:
            self.per_minute = per_minute
            #: calls a second Slack allows (in this run's time)
            self.budget_per_s = per_minute * scale / 60.0
            strict = per_minute <= NON_MARKETPLACE_PER_MINUTE
            share = TIER1_SHARE if strict else SHARE
            self.base_interval = 1.0 / (self.budget_per_s * share) + (JITTER_S if strict else 0)
            self.interval = self.base_interval
            self._cond.notify_all()  # waiters take the new spacing from the last call

    def acquire(self) -> float:
        """Wait for this method's next slot; returns the seconds waited."""
        with self._cond:
            start = now = self._clock()
            waited = False
            while self._slot() > now:
                waited = True
                self._cond.wait(self._slot() - now)
                now = self._clock()
            if waited and self._last is not None:
                self.saturated_calls += 1
                self.saturated_s += now - self._last
            self._last = now
            self.calls += 1
            return now - start

    def _slot(self) -> float:
        """When the next call may go: a spacing after the last one, and not while paused."""
        spaced = self._last + self.interval if self._last is not None else 0.0
        return max(spaced, self._paused_until)

    def pause(self, seconds: float) -> None:
        """Slack refused a call for rate: no call of this method for ``seconds``, then a
        slower pace."""
        with self._cond:
            self.rate_limited += 1
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self.interval = min(self.interval / CUT, 60.0)
            self._cond.notify_all()

    def recovered(self) -> None:
        """A call went through: the pace climbs back toward the budget."""
        with self._cond:
            if self.interval > self.base_interval:
                self.interval = max(self.base_interval, self.interval * 0.95)

    def achieved(self) -> float | None:
        """The share of the budget used while work waited for it (None: never saturated)."""
        with self._cond:
            if self.saturated_s <= 0 or self.saturated_calls < 1:
                return None
            return self.saturated_calls / (self.saturated_s * self.budget_per_s)

    def report(self) -> dict[str, Any]:
        achieved = self.achieved()
        return {"calls": self.calls, "budget_per_s": round(self.budget_per_s, 4),
                "rate_limited": self.rate_limited, "saturated_s": round(self.saturated_s, 3),
                "saturated_calls": self.saturated_calls,
                "achieved": None if achieved is None else round(achieved, 4)}


@dataclass
class EtaReport:
    """One ETA given during a run: when (seconds into the run) and the seconds it said were
    left."""

    at_s: float
    remaining_s: float
    calls_left: dict[str, int]


class Pacing:
    """Every method's pacer, the budget history and replies get, and the ETA of a run."""

    def __init__(self, rate_limit: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        #: how much faster than Slack's real minute this run's time goes (1: real Slack)
        self.scale = rate_limit / TIER4_PER_S
        self._clock = clock
        self.started = clock()
        self.pacers = {m: MethodPacer(m, per_minute, self.scale, clock=clock)
                       for m, per_minute in TIER_PER_MINUTE.items()}
        self.budget = Budget.UNKNOWN
        self.budget_reason = ""
        for method in HISTORY_METHODS:  # until told, the smaller budget: no 429 to learn it
            self.pacers[method].set_budget(NON_MARKETPLACE_PER_MINUTE, self.scale)
        #: True once a page (not only a 429) showed the budget
        self._page_told = False
        self._gate = threading.Condition()
        self._probing = False
        #: by method, the sizes (in messages) of the listings this run is expected to read
        self._expected: dict[str, list[int]] = {}
        self._eta_lock = threading.Lock()
        self._last_eta = -ETA_EVERY_S
        self.eta_reports: list[EtaReport] = []

    # -- calls ----------------------------------------------------------------------------------

    def pacer(self, method: str) -> MethodPacer:
        pacer = self.pacers.get(method)
        if pacer is None:  # a method we do not know the tier of: Tier 2, the cautious guess
            pacer = self.pacers.setdefault(method, MethodPacer(method, 20.0, self.scale,
                                                               clock=self._clock))
        return pacer

    @contextmanager
    def call(self, method: str) -> Iterator[None]:
        """Around one logical call (its retries included): while the budget is unknown,
        one history or replies call at a time."""
        gated = method in HISTORY_METHODS
        probing = False
        if gated:
            with self._gate:
                while self.budget is Budget.UNKNOWN and self._probing:
                    self._gate.wait()
                probing = self.budget is Budget.UNKNOWN
                if probing:
                    self._probing = True
        try:
            yield
        finally:
            if probing:
                with self._gate:
                    self._probing = False
                    self._gate.notify_all()

    def page_size(self, method: str) -> int:
        """Messages to ask for: 15 once a page showed that is all we get, else 200 (after a
        429 alone we keep asking for more, so the next page can tell)."""
        if method in HISTORY_METHODS and self.budget is Budget.NON_MARKETPLACE \
                and self._page_told:
            return NON_MARKETPLACE_PAGE
        return PAGE

    def sized(self, method: str, params: Any) -> Any:
        """``params`` asking for the page size the budget allows now (decided at the last
        moment: a call that waited for the first answer asks what that answer taught)."""
        if method not in HISTORY_METHODS or not isinstance(params, list):
            return params
        size = self.page_size(method)
        return [(k, size if k == "limit" else v) for k, v in params]

    # -- learning -------------------------------------------------------------------------------

    def observe(self, method: str, asked: int | None, body: Any) -> None:
        """What a successful answer says of the budget (page sizes)."""
        self.pacer(method).recovered()
        if method not in HISTORY_METHODS or self._page_told:
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return
        got = len(body["messages"])
        if got > NON_MARKETPLACE_PAGE:
            self.decide(Budget.MARKETPLACE, f"{method} answered {got} messages in a page",
                        page=True)
        elif body.get("has_more") and (asked is None or asked > NON_MARKETPLACE_PAGE):
            self.decide(Budget.NON_MARKETPLACE,
                        f"{method} answered {got} messages with more to come, asked for "
                        f"{asked or 'its default'}", page=True)

    def rate_limited(self, method: str, retry_after: float | None) -> None:
        """Slack answered 429 for ``method``: hold it back for Retry-After, slower after."""
        wait = retry_after if retry_after is not None else self.pacer(method).interval * 2
        self.pacer(method).pause(wait)
        if method in HISTORY_METHODS and self.budget is Budget.UNKNOWN:
            self.decide(Budget.NON_MARKETPLACE, f"{method} was refused for rate (HTTP 429) "
                        "at a pace the Marketplace budget allows")

    def assume(self, budget: Budget) -> None:
        """Start from the budget the last run learned (still to be confirmed by a page:
        calls go one at a time until then, at that budget's pace)."""
        if budget is Budget.MARKETPLACE and self.budget is Budget.UNKNOWN:
            for method in HISTORY_METHODS:
                self.pacer(method).set_budget(TIER_PER_MINUTE[method], self.scale)

    def decide(self, budget: Budget, reason: str, *, page: bool = False) -> None:
        """Settle the budget; a page's evidence overrules a 429's, nothing overrules a page."""
        with self._gate:
            if self._page_told or (self.budget is not Budget.UNKNOWN and not page):
                return
            self._page_told = page
            if budget is self.budget:
                return
            self.budget, self.budget_reason = budget, reason
            per_minute = (NON_MARKETPLACE_PER_MINUTE if budget is Budget.NON_MARKETPLACE
                          else None)
            for method in HISTORY_METHODS:
                self.pacer(method).set_budget(per_minute or TIER_PER_MINUTE[method], self.scale)
            self._gate.notify_all()
        level = logging.WARNING if budget is Budget.NON_MARKETPLACE else logging.INFO
        log.log(level, "slack budget", extra={"event": "slack_budget", "budget": str(budget),
                                              "reason": reason})
        self.report_eta(force=True)

    def budget_note(self) -> str | None:
        """What the run summary should say of the budget (None: nothing to say)."""
        if self.budget is not Budget.NON_MARKETPLACE:
            return None
        minute = 60.0 / self.scale
        return (f"Slack's budget for apps outside the Marketplace applies "
                f"({self.budget_reason}): conversations.history and conversations.replies "
                f"were paced to 1 call a minute{'' if self.scale == 1 else f' ({minute:g} s here)'}"
                f" and {NON_MARKETPLACE_PAGE} messages a call")

    # -- the ETA --------------------------------------------------------------------------------

    def expect(self, method: str, listings: list[int]) -> None:
        """Listings of these many messages each are expected of ``method`` this run: their
        calls follow from the page size the budget allows (known later, maybe)."""
        with self._eta_lock:
            self._expected.setdefault(method, []).extend(listings)

    def eta(self) -> tuple[float, dict[str, int]]:
        """Seconds left, and calls left by method, from what is expected and the paces."""
        with self._eta_lock:
            expected = {m: sum(calls_for(n, self.page_size(m)) for n in sizes)
                        for m, sizes in self._expected.items()}
        left = {m: max(0, n - self.pacer(m).calls) for m, n in expected.items()}
        seconds = max((n * self.pacer(m).interval for m, n in left.items()), default=0.0)
        return seconds, left

    def report_eta(self, *, force: bool = False) -> EtaReport | None:
        """Log the ETA (at most every ETA_EVERY_S seconds unless forced) and keep it."""
        now = self._clock() - self.started
        with self._eta_lock:
            if not force and now - self._last_eta < ETA_EVERY_S:
                return None
            self._last_eta = now
        seconds, left = self.eta()
        report = EtaReport(round(now, 3), round(seconds, 3), left)
        with self._eta_lock:
            self.eta_reports.append(report)
        log.info("slack eta", extra={"event": "slack_eta", "remaining_s": report.remaining_s,
                                     "calls_left": left, "budget": str(self.budget)})
        return report

    def report(self) -> dict[str, Any]:
        """Per method: calls, budget, 429s and the share of the budget achieved."""
        return {"budget": str(self.budget), "scale": round(self.scale, 4),
                "methods": {m: p.report() for m, p in sorted(self.pacers.items()) if p.calls}}


def calls_for(messages: int, page: int) -> int:
    """Calls a listing of ``messages`` takes at ``page`` a call (an empty one takes one)."""
    return max(1, math.ceil(messages / page))
