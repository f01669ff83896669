"""How the CLI shows results: tables and JSON on stdout, progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

from cscor_tools.sync import LoggingObserver, StreamResult


def plural(n: int | float, word: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,024 rows``: a count and its noun, agreeing."""
    count = int(n)
    noun = word if count == 1 else (many if many is not None else f"{word}s")
    return f"{count:,} {noun}"


def clip(text: str, width: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``width`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1].rsplit(" ", 1)[0] if " " in flat[: width - 1] else flat[: width - 1]
    return cut.rstrip(" ,;:") + "…"


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(soft_wrap=False, width=max(100, _terminal_width())).print(table)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


class ProgressObserver(LoggingObserver):
    """Live progress on a terminal: one line per stream with pages and rows so far."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[tuple[str, str], Any] = {}
        self._counts: dict[tuple[str, str], dict[str, int]] = {}
        self._progress.start()

    def stream_started(self, connector: str, stream: str, slices: int) -> None:
        key = (connector, stream)
        self._counts[key] = {}
        self._tasks[key] = self._progress.add_task(
            f"{connector}.{stream}", total=None, detail=f"{slices} slice(s)"
        )

    def page_written(self, connector: str, stream: str, rows: dict[str, int]) -> None:
        key = (connector, stream)
        counts = self._counts.setdefault(key, {})
        for k, v in rows.items():
            counts[k] = counts.get(k, 0) + v
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        self._progress.update(self._tasks[key], detail=detail)

    def stream_finished(self, connector: str, result: StreamResult) -> None:
        key = (connector, result.stream)
        mark = "[green]done" if result.status == "ok" else f"[red]{result.status}"
        detail = ", ".join(f"{k} {v}" for k, v in sorted(result.rows.items())) or "no changes"
        self._progress.update(self._tasks[key], total=1, completed=1, detail=f"{mark}[/] {detail}")

    def close(self) -> None:
        self._progress.stop()


def progress_observer(enabled: bool) -> LoggingObserver:
    """A live display when stderr is a terminal, structured logs otherwise."""
    if enabled and sys.stderr.isatty():
        return ProgressObserver()
    return LoggingObserver()
