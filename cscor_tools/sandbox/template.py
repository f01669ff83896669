"""Compiled JSON templates: an object's shape written once, rendered by joining pieces.

A Stripe invoice has about 90 keys of which some 40 vary. Building the dict and serializing it
costs over 100 µs a time; a template keeps the constant parts as ready-made text and encodes only
the slots, several times faster, which is what lets the sandbox serialize tens of thousands of
objects on first touch without becoming the bottleneck of the sync that walks them.
Where a dict is needed (event snapshots, ``previous_attributes``), it is parsed back from the
bytes, so the bytes stay the single source of truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any


@dataclass(frozen=True)
class Slot:
    """A value filled in at render time."""

    name: str


@dataclass(frozen=True)
class Raw:
    """JSON text inserted as is (e.g. an embedded list made of cached objects)."""

    text: str


#: one encoder for all: ``json.dumps`` with options builds a new encoder on every call
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes with non-ASCII kept, as the providers send it; key order is the
    dict's, which the caller controls, so output is deterministic."""
    return _ENCODER.encode(obj).encode()


def encode(value: Any) -> str:
    """One JSON value, compact, non-ASCII kept (as Stripe sends it)."""
    kind = type(value)
    if kind is str:
        return str(encode_basestring(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is Raw:
        return str(value.text)
    if not value and (kind is dict or kind is list):
        return "{}" if kind is dict else "[]"
    return _ENCODER.encode(value)


def _order(keys: list[str]) -> list[str]:
    # the API prints id and object first, the rest alphabetically
    head = [k for k in ("id", "object") if k in keys]
    return head + sorted(k for k in keys if k not in ("id", "object"))


class Template:
    """A nested dict/list shape whose leaves are constants or :class:`Slot` s."""

    def __init__(self, shape: Mapping[str, Any]) -> None:
        self._literals: list[str] = []
        self._slots: list[str] = []
        self._paths: dict[str, tuple[str, ...]] = {}
        pending: list[str] = []
        self._walk(shape, pending, ())
        self._literals.append("".join(pending))
        # one C-level %-format over C-level item lookups: the per-slot cost is the encode call
        self._format = "%s".join(lit.replace("%", "%%") for lit in self._literals)
        getter = itemgetter(*self._slots) if self._slots else None
        self._values: Callable[[Mapping[str, Any]], tuple[Any, ...]]
        if getter is None:
            self._values = lambda values: ()
        elif len(self._slots) == 1:
            self._values = lambda values: (getter(values),)
        else:
            self._values = getter

    def _walk(self, node: Any, pending: list[str], path: tuple[str, ...]) -> None:
        if isinstance(node, Slot):
            self._literals.append("".join(pending))
            pending.clear()
            self._slots.append(node.name)
            self._paths.setdefault(node.name, path)
        elif isinstance(node, Mapping):
            pending.append("{")
            for i, key in enumerate(_order(list(node))):
                pending.append(("," if i else "") + encode(key) + ":")
                self._walk(node[key], pending, (*path, key))
            pending.append("}")
        elif isinstance(node, list):
            pending.append("[")
            for i, item in enumerate(node):
                if i:
                    pending.append(",")
                self._walk(item, pending, path)
            pending.append("]")
        else:
            pending.append(encode(node))

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(self._slots)

    def render_text(self, values: Mapping[str, Any]) -> str:
        return self._format % tuple(map(encode, self._values(values)))

    def render(self, values: Mapping[str, Any]) -> bytes:
        return self.render_text(values).encode()

    def previous(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
        """Stripe's ``previous_attributes`` between two renderings: the old values of the
        slots that changed, nested at their place in the object."""
        out: dict[str, Any] = {}
        for name, path in self._paths.items():
            old = before[name]
            if old == after[name]:
                continue
            node = out
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = json.loads(old.text) if type(old) is Raw else old
        return out
