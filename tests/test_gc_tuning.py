"""The bulk-work collector settings: set once however uses nest or overlap, then restored."""

from __future__ import annotations

import gc

from cscor_tools.gc_tuning import BULK_THRESHOLD, lean_gc


def test_overlapping_uses_restore_the_settings_only_when_the_last_one_leaves() -> None:
    before = gc.get_threshold()
    first, second = lean_gc(), lean_gc()
    first.__enter__()
    assert gc.get_threshold()[0] >= BULK_THRESHOLD
    second.__enter__()
    first.__exit__(None, None, None)  # the first to enter leaves while the other still works
    assert gc.get_threshold()[0] >= BULK_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_what_the_caller_froze_stays_frozen() -> None:
    gc.freeze()
    try:
        assert gc.get_freeze_count() > 0
        with lean_gc():
            pass
        # unfreeze would have emptied the permanent generation (objects freed since may
        # have left it, so its exact size is no measure)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
