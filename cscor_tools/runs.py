"""The run log's vocabulary: how a sync, an import or an export ended.

One enum for every kind of run, so ``cscor status`` and scripts reading the run log compare
against one set of words. It is a ``StrEnum``: the store keeps the plain word ("succeeded"),
readable by any SQL client.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run stands; every status but ``RUNNING`` is final."""

    RUNNING = "running"
    #: everything asked for was done
    SUCCEEDED = "succeeded"
    #: a sync succeeded, but a reconcile scan was needed (a change feed's horizon had passed)
    RECONCILED = "reconciled"
    #: some parts failed (streams of a sync, rows of an import); the rest was kept
    PARTIAL = "partial"
    FAILED = "failed"
    #: stopped by Ctrl-C, or left running by a process that was killed
    INTERRUPTED = "interrupted"

    @classmethod
    def from_stored(cls, value: str) -> RunStatus | str:
        """The status a run log row holds; older versions wrote "ok" for a success.

        A word this version does not know (written by a newer one) is kept as it is.
        """
        value = _LEGACY.get(value, value)
        try:
            return cls(value)
        except ValueError:
            return value


#: words older versions wrote, and what they mean now
_LEGACY = {"ok": RunStatus.SUCCEEDED.value}
