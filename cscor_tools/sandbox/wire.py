"""Requests and responses as the provider handlers see them, free of sockets.

A handler takes a :class:`Request` and returns a :class:`Response`; the server decides how the
response reaches the wire (on time, late, cut short or not at all). Parameters arrive in the
query string or, for form posts, in the body, and Stripe's bracket syntax
(``created[gte]=1``, ``types[]=a``, ``expand[0]=b``) is decoded into nested values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from cscor_tools.sandbox.template import dumps

FORM = "application/x-www-form-urlencoded"


@dataclass
class Request:
    method: str
    path: str
    query: str = ""
    #: header names in lower case
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """Every parameter, query first, then a form body."""
        items = parse_qsl(self.query, keep_blank_values=True)
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if self.body and content_type == FORM:
            items += parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return items

    @cached_property
    def flat(self) -> dict[str, str]:
        """Parameters by name; the last value wins."""
        return dict(self.pairs)

    @cached_property
    def nested(self) -> dict[str, Any]:
        """Parameters with brackets decoded into dicts and lists."""
        return decode_brackets(self.pairs)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: objects in the body, for per-object latency
    objects: int = 0

    @classmethod
    def json(cls, status: int, payload: Any, *, objects: int = 0,
             headers: list[tuple[str, str]] | None = None) -> Response:
        return cls(status, dumps(payload), headers=list(headers or []), objects=objects)


def _split_key(key: str) -> list[str]:
    if "[" not in key or not key.endswith("]"):
        return [key]
    head, _, rest = key.partition("[")
    return [head, *rest[:-1].split("][")]


def decode_brackets(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b]=1&c[]=x&c[]=y&d[0]=z`` → ``{"a": {"b": "1"}, "c": ["x", "y"], "d": ["z"]}``."""
    root: dict[str, Any] = {}
    appended = 0
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = parts[-1]
        if last == "":
            appended += 1  # "x[]" appends; keep arrival order behind any explicit indexes
            last = f"\x00{appended:09d}"
        node[last] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    keys = list(converted)
    if keys and all(k.isdigit() or k.startswith("\x00") for k in keys):
        ordered = sorted(keys, key=lambda k: (k.startswith("\x00"), int(k.lstrip("\x00"))))
        return [converted[k] for k in ordered]
    return converted
