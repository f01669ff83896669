"""Finding the line of a key in a TOML file's text, for errors that point at the mistake.

``tomllib`` gives values, not positions, so the line is found by reading the text again: the
table's header (``[fields]``, ``[fields."clients.email"]``), then a line inside it whose key
(bare, "quoted" or 'literal', dotted or not) leads to the path. A path found on no line, or on
more than one, has no line: an error then says "line ?" rather than a wrong number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

_KEY_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")
_HEADER = re.compile(r"^\s*\[(?!\[)(.*?)\]\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^\s*(.+?)\s*=")
_MULTILINE = re.compile(r'"""|\'\'\'')


def _dotted(text: str) -> tuple[str, ...] | None:
    """The parts of a dotted TOML key (``a."b.c".d``), or None when ``text`` is not one."""
    parts: list[str] = []
    pos = 0
    while True:
        m = _KEY_PART.match(text, pos)
        if m is None:
            return None
        basic, literal, bare = m.groups()
        if basic is not None:
            try:
                parts.append(json.loads(f'"{basic}"'))
            except ValueError:
                return None
        else:
            parts.append(literal if literal is not None else bare)
        pos = m.end()
        if pos == len(text):
            return tuple(parts)
        if text[pos] != ".":
            return None
        pos += 1


@dataclass(frozen=True)
class _Section:
    header: tuple[str, ...]
    line: int  # 1-based line of the header; 0 for the root table
    keys: tuple[tuple[tuple[str, ...], int], ...]  # dotted key, 1-based line


def _sections(text: str) -> list[_Section]:
    sections: list[_Section] = []
    header: tuple[str, ...] | None = ()
    start = 0
    keys: list[tuple[tuple[str, ...], int]] = []
    closer: str | None = None  # inside a multi-line string: lines are text, not keys or headers
    for number, line in enumerate(text.splitlines(), 1):
        opened = closer is not None
        for quotes in _MULTILINE.findall(line):
            if closer is None:
                closer = quotes
            elif quotes == closer:
                closer = None
        stripped = line.strip()
        if opened or not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            if header is not None:
                sections.append(_Section(header, start, tuple(keys)))
            m = _HEADER.match(line)
            header = _dotted(m.group(1)) if m else None  # [[arrays]] are never looked up
            start, keys = number, []
            continue
        m = _ASSIGN.match(line)
        key = _dotted(m.group(1)) if m else None
        if key is not None:
            keys.append((key, number))
    if header is not None:
        sections.append(_Section(header, start, tuple(keys)))
    return sections


def key_line(text: str | None, path: Sequence[str]) -> int | None:
    """The line (1-based) where ``path`` (table, key, option…) is written, or None if unsure.

    A path inside an inline table (``"clients.email" = {action = "mask", style = "x"}``) is on
    the line of its key; a table named but not written (``[rows]`` with no ``since``) is None.
    """
    if text is None or not path:
        return None
    target = tuple(path)
    found: set[int] = set()
    for section in _sections(text):
        n = len(section.header)
        if target[:n] != section.header:
            continue
        rest = target[n:]
        if not rest:
            if section.line:
                found.add(section.line)
            continue
        for key, line in section.keys:
            # the key, or a key whose value (an inline table or list) holds the rest
            if rest[: len(key)] == key:
                found.add(line)
    return found.pop() if len(found) == 1 else None


def line_label(text: str | None, path: Sequence[str]) -> str:
    """``"line 12"``, or ``"line ?"`` where the key's line cannot be told for sure."""
    line = key_line(text, path)
    return f"line {line}" if line is not None else "line ?"
