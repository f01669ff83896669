"""Hostile names and values — SQL, quotes and control characters in column names, values,
entity names, policy keys and mapping entries — reach the stores only as bound parameters or
quoted identifiers: every SQL text sent to the store is recorded and none carries them. On
both stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cscor_tools.errors import CscorError
from cscor_tools.export import export_bundle
from cscor_tools.imports import import_file
from cscor_tools.store import Store
from tests.reliability.conftest import show

HOSTILE = "Robert'); DROP TABLE \"clients\"; --\x01\x1f\u202e"
#: what must never be part of an SQL text
MARKS = ("DROP TABLE", "Robert", "\x01", "\x1f", "\u202e")


class _Recording:
    """A DB-API connection or cursor that records every SQL text it is given."""

    def __init__(self, inner: Any, texts: list[str]) -> None:
        self._inner, self._texts = inner, texts

    def _note(self, sql: Any) -> None:
        self._texts.append(sql.as_string(None) if hasattr(sql, "as_string") else str(sql))

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(sql)
        return self._inner.execute(sql, *args, **kwargs)

    def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(sql)
        return self._inner.executemany(sql, *args, **kwargs)

    def copy(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(sql)
        return self._inner.copy(sql, *args, **kwargs)

    def cursor(self, *args: Any, **kwargs: Any) -> _Recording:
        return _Recording(self._inner.cursor(*args, **kwargs), self._texts)

    def __enter__(self) -> _Recording:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def recorded(store: Store) -> tuple[Store, list[str]]:
    texts: list[str] = []
    store._conn = _Recording(store._conn, texts)
    return store, texts


def test_hostile_names_and_values_reach_the_store_only_as_parameters(
    recorded: tuple[Store, list[str]], tmp_path: Path,
) -> None:
    store, texts = recorded
    data = tmp_path / "clients.csv"
    data.write_text(f'email,name,"{HOSTILE.replace(chr(34), chr(34) * 2)}",notes\n'
                    f'ann@example.com,"{HOSTILE.replace(chr(34), chr(34) * 2)}",x,'
                    f'"{HOSTILE.replace(chr(34), chr(34) * 2)}"\n')
    mapping = tmp_path / "map.toml"
    mapping.write_text(f'entity = "clients"\n[columns]\n"{HOSTILE[:8]}\\u0001" = "name"\n'
                       '[constants]\ncurrency = "EUR"\n')
    refusals: dict[str, str] = {}
    result = import_file(data, store=store)
    assert result.inserted == 1
    imported = import_file(data, store=store, mapping=mapping)  # a hostile mapping entry
    assert imported.rejected == 0
    for label, call in {
        "entity name": lambda: import_file(data, store=store, entity=HOSTILE),
        "mapping target": lambda: import_file(data, store=store, mapping=_map(tmp_path)),
        "policy key": lambda: export_bundle(store, tmp_path / "out", policy=_policy(tmp_path)),
        "export entity": lambda: export_bundle(store, tmp_path / "out2", entities=[HOSTILE]),
    }.items():
        with pytest.raises((CscorError, ValueError)) as err:
            call()
        refusals[label] = str(err.value)[:120]
    export_bundle(store, tmp_path / "bundle", policy="portability")
    show({"statements": len(texts), "refused": refusals})
    leaked = [t for t in texts if any(m in t for m in MARKS)]
    assert texts and leaked == []
    rows = [r for batch in store.iter_rows("clients") for r in batch]
    assert [(r["name"], r["notes"]) for r in rows] == [(HOSTILE, HOSTILE)]  # stored exactly
    exported = [json.loads(line) for line in
                (tmp_path / "bundle" / "clients.jsonl").read_text("utf-8").splitlines()]
    assert [r["name"] for r in exported] == [HOSTILE]


def _map(tmp_path: Path) -> Path:
    path = tmp_path / "bad-map.toml"
    path.write_text(f'entity = "clients"\n[columns]\nname = "{HOSTILE[:20]}"\n')
    return path


def _policy(tmp_path: Path) -> Path:
    path = tmp_path / "bad-policy.toml"
    path.write_text(f'[policy]\nname = "x"\n[fields]\n"clients.{HOSTILE[:20]}" = "drop"\n')
    return path
