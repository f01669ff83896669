"""The connector registry: every connector, ours included, comes in through one entry-point group.

A third-party package adds a connector by declaring, in its own pyproject.toml::

    [project.entry-points."cscor_tools.connectors"]
    myprovider = "my_package.connector:MyConnector"
"""

from __future__ import annotations

from importlib.metadata import entry_points

from cscor_tools.connectors.base import (
    Connector,
    ConnectorSettings,
    Page,
    Secret,
    Slice,
    Stream,
)
from cscor_tools.connectors.pagination import (
    AfterIdPaginator,
    BeforeIdPaginator,
    KeysetPaginator,
    NextCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
)
from cscor_tools.connectors.rest import RestStream
from cscor_tools.errors import ConfigError

ENTRY_POINT_GROUP = "cscor_tools.connectors"

__all__ = [
    "ENTRY_POINT_GROUP",
    "AfterIdPaginator",
    "BeforeIdPaginator",
    "Connector",
    "ConnectorSettings",
    "KeysetPaginator",
    "NextCursorPaginator",
    "OffsetPaginator",
    "Page",
    "PageNumberPaginator",
    "Paginator",
    "RestStream",
    "Secret",
    "Slice",
    "Stream",
    "available_connectors",
    "load_connector",
    "register_connector",
]

# Connectors registered in-process (tests, notebooks): they shadow installed ones of the same name.
_registered: dict[str, type[Connector]] = {}


def register_connector(cls: type[Connector]) -> type[Connector]:
    """Make a connector class available without packaging it (usable as a decorator)."""
    _registered[cls.name] = cls
    return cls


def unregister_connector(name: str) -> None:
    _registered.pop(name, None)


def available_connectors() -> dict[str, str]:
    """Installed connector names and where each comes from (``module:Class``), sorted."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for name, cls in _registered.items():
        found[name] = f"{cls.__module__}:{cls.__qualname__}"
    return dict(sorted(found.items()))


def load_connector(name: str) -> type[Connector]:
    """The connector class called ``name``; a ConfigError listing what is installed otherwise."""
    if name in _registered:
        return _registered[name]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            try:
                cls = ep.load()
            except Exception as exc:  # a broken plugin must not look like a missing one
                raise ConfigError(f"connector {name!r} ({ep.value}) failed to load: {exc}") from exc
            if not (isinstance(cls, type) and issubclass(cls, Connector)):
                raise ConfigError(f"connector {name!r} ({ep.value}) is not a Connector class")
            return cls
    known = ", ".join(available_connectors()) or "none"
    raise ConfigError(f"no connector called {name!r} is installed (installed: {known})")
