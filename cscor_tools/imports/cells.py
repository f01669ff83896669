"""What every converter shares: the error a cell raises and how a reason shows a value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Converter = Callable[[Any], Any]


class CellError(ValueError):
    """A cell that cannot become a value of its field; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kind(value: Any) -> str:
    return type(value).__name__


def short(value: Any) -> str:
    """A value fit for a reason: quoted and cut (only for values that name nobody)."""
    text = str(value)
    return repr(text if len(text) <= 24 else text[:21] + "...")
