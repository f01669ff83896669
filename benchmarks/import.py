"""Import benchmark: a 1,000,000-row clients CSV (~150 MB) into SQLite and PostgreSQL.

``python -m benchmarks import [--json] [--set rows=100000]``

Every figure is measured in a child process of its own, in this run, against baselines
measured in the same run on the same file:

* ``raw_workspace``: the limit an importer is measured against — the file's columns loaded
  as they are into a text table with the backend's bulk route (``executemany`` of
  ``csv.reader`` rows for SQLite, ``COPY … FROM STDIN (FORMAT csv)`` of the file's bytes for
  PostgreSQL), then one ``INSERT … SELECT`` into the workspace ``clients`` table (its
  primary key, indexes and column layout), deriving ids and building the address and tags
  in SQL: the same rows in the same table, without any validation.
* ``raw_text`` (reported beside it): the raw load alone, into a text table without
  constraints.

The targets: the import's rows/s over ``raw_workspace``'s (≥ 0.75 on each store); a
re-import of the same file into the same workspace (every row unchanged) at ≥ 2× the first
import's rows/s; peak RSS ≤ 300 MB, and flat: the ``VmHWM`` of the importing process (read
by that process itself: ``ru_maxrss`` would carry the size of the parent it was forked from)
at the full size over that at a quarter of it ≤ 1.15.
Options: rows (default 1000000), batch (the importer's default), postgres (auto|skip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import benchmarks

_HEADER = ("ID,Company Name,Contact Name,E-mail,Phone number,Street,City,Postal code,Country,"
           "Currency,Rating,Status,Tags,Notes,Created\n")
_FIRST = ["Anna", "Bernd", "Chloé", "Dmitri", "Eva", "François", "Günter", "Hana", "Ivan", "José"]
_ASCII = ["anna", "bernd", "chloe", "dmitri", "eva", "francois", "gunter", "hana", "ivan", "jose"]
_LAST = ["Müller", "Smith", "Dupont", "García", "Rossi", "Nowak", "Jensen", "O'Brien", "Kowalski",
         "Silva"]
_CITIES = [("Paris", "FR"), ("Berlin", "DE"), ("Madrid", "ES"), ("Roma", "IT"),
           ("London", "GB"), ("Wien", "AT")]
_STATES = ["lead", "active", "On hold", "archived"]
_DATASET_VERSION = 1


def dataset(rows: int) -> Path:
    """The clients CSV with ``rows`` rows, generated once and cached in the temp folder."""
    folder = Path(tempfile.gettempdir()) / "cscor-bench-import"
    folder.mkdir(exist_ok=True)
    path = folder / f"clients-{rows}-v{_DATASET_VERSION}.csv"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        out.write(_HEADER)
        chunk: list[str] = []
        for i in range(rows):
            first, last = _FIRST[i % 10], _LAST[(i // 10) % 10]
            city, country = _CITIES[i % 6]
            tags = "vip;newsletter" if i % 3 == 0 else ""
            notes = '"Met at the fair, asked for a ""quote"""' if i % 7 == 0 else ""
            chunk.append(
                f"C{i:07d},{last} & Co {i},{first} {last},{_ASCII[i % 10]}.{i}@example.com,"
                f"+49 30 {i:07d},{i % 300} Main Street,{city},{10000 + i % 90000},{country},"
                f"EUR,{1 + i % 5},{_STATES[i % 4]},{tags},{notes},"
                f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}T10:{i % 60:02d}:00Z\n"
            )
            if len(chunk) == 10_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    partial.rename(path)
    return path


# -- what the child processes run ------------------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's own peak resident memory (``VmHWM``), in MiB."""
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    return int(kb) / 1024


def _fresh_sqlite(folder: Path) -> Any:
    from cscor_tools.store import open_store

    return open_store(folder / f"bench-{uuid.uuid4().hex[:8]}.db")


def _fresh_postgres(url: str) -> tuple[Any, str]:
    import psycopg

    from cscor_tools.store import open_store

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    from urllib.parse import quote

    return open_store(f"{url}{sep}options={quote(f'-csearch_path={schema}')}"), schema


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _measure_import(path: Path, backend: str, folder: Path, url: str | None,
                    batch: int | None) -> dict[str, Any]:
    from cscor_tools.imports import import_file

    schema = None
    if backend == "sqlite":
        store = _fresh_sqlite(folder)
    else:
        assert url is not None
        store, schema = _fresh_postgres(url)
    sizing = {"batch_size": batch} if batch else {}
    try:
        started = time.perf_counter()
        result = import_file(path, store=store, entity="clients",
                             rejects=folder / "bench.rejects.csv", **sizing)
        seconds = time.perf_counter() - started
        assert result.rejected == 0, result.files[0].messages
        assert result.inserted == store.count("clients"), "rows lost"
        started = time.perf_counter()
        again = import_file(path, store=store, entity="clients",
                            rejects=folder / "bench.rejects.csv", **sizing)
        again_seconds = time.perf_counter() - started
        assert again.unchanged == result.inserted and not (again.inserted or again.updated)
        return {"seconds": seconds, "rows": result.inserted, "peak_rss_mb": _peak_rss_mb(),
                "reimport_seconds": again_seconds}
    finally:
        store.close()
        if schema is not None and url is not None:
            _drop_schema(url, schema)


_SQLITE_INSERT_SELECT = (
    'INSERT INTO "clients" ("id", "source", "source_id", "deleted", "synced_at", "company", '
    '"name", "email", "phone", "address", "currency", "rating", "workflow_state", "tags", '
    '"notes", "created_at") SELECT make_id(\'clients\', \'import\', c0), \'import\', c0, 0, '
    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), c1, c2, c3, c4, json_object('line1', c5, 'city', "
    "c6, 'postal_code', c7, 'country', c8), lower(c9), CAST(c10 AS INTEGER), c11, "
    "CASE WHEN c12 = '' THEN NULL ELSE json_array(c12) END, NULLIF(c13, ''), c14 FROM raw"
)
_POSTGRES_INSERT_SELECT = (
    'INSERT INTO "clients" ("id", "source", "source_id", "deleted", "synced_at", "company", '
    '"name", "email", "phone", "address", "currency", "rating", "workflow_state", "tags", '
    '"notes", "created_at") SELECT \'cli_\' || left(encode(sha256(convert_to(\'clients\' || '
    "chr(31) || 'import' || chr(31) || c0, 'UTF8')), 'hex'), 20), 'import', c0, FALSE, now(), "
    "c1, c2, c3, c4, jsonb_build_object('line1', c5, 'city', c6, 'postal_code', c7, 'country', "
    "c8), lower(c9), c10::bigint, c11, CASE WHEN c12 = '' THEN NULL ELSE "
    "to_jsonb(string_to_array(c12, ';')) END, NULLIF(c13, ''), c14::timestamptz FROM raw"
)


def _measure_raw_sqlite(path: Path, folder: Path, into_workspace: bool) -> dict[str, Any]:
    import csv

    from cscor_tools.schema import make_id

    store = _fresh_sqlite(folder)
    conn = store.connection  # type: ignore[attr-defined]
    conn.create_function("make_id", 3, make_id, deterministic=True)
    try:
        started = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            width = len(next(reader))
            temp = "TEMP " if into_workspace else ""
            columns = ", ".join(f"c{i} TEXT" for i in range(width))
            conn.execute(f"CREATE {temp}TABLE raw ({columns})")
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO raw VALUES ({', '.join('?' * width)})", reader)
            if into_workspace:
                conn.execute(_SQLITE_INSERT_SELECT)
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        (rows,) = conn.execute(
            'SELECT COUNT(*) FROM "clients"' if into_workspace else "SELECT COUNT(*) FROM raw"
        ).fetchone()
        return {"seconds": seconds, "rows": rows, "peak_rss_mb": _peak_rss_mb()}
    finally:
        store.close()


def _measure_raw_postgres(path: Path, url: str, into_workspace: bool) -> dict[str, Any]:
    store, schema = _fresh_postgres(url)
    conn = store.connection  # type: ignore[attr-defined]
    try:
        with path.open("rb") as f:
            width = f.readline().count(b",") + 1
        temp = "TEMP " if into_workspace else ""
        conn.execute(f"CREATE {temp}TABLE raw ({', '.join(f'c{i} text' for i in range(width))})")
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy("COPY raw FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                    path.open("rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
            if into_workspace:
                cur.execute(_POSTGRES_INSERT_SELECT)
        seconds = time.perf_counter() - started
        table = '"clients"' if into_workspace else "raw"
        (rows,) = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        return {"seconds": seconds, "rows": rows, "peak_rss_mb": _peak_rss_mb()}
    finally:
        store.close()
        _drop_schema(url, schema)


def measure(kind: str, path: str, folder: str, url: str | None,
            batch: int | None) -> dict[str, Any]:
    """One measurement, run inside a child process."""
    p, f = Path(path), Path(folder)
    if kind.startswith("import_"):
        return _measure_import(p, kind.removeprefix("import_"), f, url, batch)
    if kind.startswith("raw_sqlite_"):
        return _measure_raw_sqlite(p, f, kind.endswith("workspace"))
    assert url is not None
    return _measure_raw_postgres(p, url, kind.endswith("workspace"))


def _child(kind: str, path: Path, folder: Path, url: str | None,
           batch: int | None) -> dict[str, Any]:
    code = (
        "import importlib, json, sys\n"
        "bench = importlib.import_module('benchmarks.import')\n"
        "args = json.loads(sys.argv[1])\n"
        "print(json.dumps(bench.measure(**args)))\n"
    )
    args = json.dumps({"kind": kind, "path": str(path), "folder": str(folder), "url": url,
                       "batch": batch})
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root),
                                                                     os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True,
                          cwd=root, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["rows_per_s"] = round(result["rows"] / result["seconds"]) if result["seconds"] else 0
    result["seconds"] = round(result["seconds"], 2)
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    if "reimport_seconds" in result:
        again = result.pop("reimport_seconds")
        result["reimport_rows_per_s"] = round(result["rows"] / again) if again else 0
        result["reimport_seconds"] = round(again, 2)
    return result


def run(options: dict[str, str]) -> dict[str, Any]:
    rows = int(options.get("rows", "1000000"))
    batch = int(options["batch"]) if "batch" in options else None
    url = None if options.get("postgres") == "skip" else os.environ.get("CSCOR_TEST_POSTGRES_URL")
    started = time.perf_counter()
    big = dataset(rows)
    small = dataset(max(rows // 4, 1000))
    out: dict[str, Any] = {
        "rows": rows,
        "file_mb": round(big.stat().st_size / 1e6, 1),
        "dataset_s": round(time.perf_counter() - started, 1),
    }
    targets: dict[str, Any] = {}
    stores = ["sqlite"] + (["postgres"] if url else [])
    if not url:
        out["postgres"] = "skipped: CSCOR_TEST_POSTGRES_URL is not set"
    peaks = []
    with tempfile.TemporaryDirectory(prefix="cscor-bench-import-") as tmp:
        folder = Path(tmp)
        for name in stores:
            figures = {
                "import": _child(f"import_{name}", big, folder, url, batch),
                "raw_workspace": _child(f"raw_{name}_workspace", big, folder, url, batch),
                "raw_text": _child(f"raw_{name}_text", big, folder, url, batch),
            }
            imported = figures["import"]
            out[name] = figures
            out[f"{name}_ratio_to_raw_text"] = round(
                imported["rows_per_s"] / figures["raw_text"]["rows_per_s"], 3)
            targets[f"{name}_ratio_to_raw_workspace"] = benchmarks.target(
                imported["rows_per_s"] / figures["raw_workspace"]["rows_per_s"], 0.75)
            targets[f"{name}_reimport_speedup"] = benchmarks.target(
                imported["reimport_rows_per_s"] / imported["rows_per_s"], 2.0)
            peaks.append(imported["peak_rss_mb"])
        small_import = _child("import_sqlite", small, folder, url, batch)
    out["rss_quarter_file_mb"] = small_import["peak_rss_mb"]
    targets["peak_rss_mb"] = benchmarks.target(max(peaks), 300, at_least=False)
    targets["rss_flat"] = benchmarks.target(
        out["sqlite"]["import"]["peak_rss_mb"] / small_import["peak_rss_mb"], 1.15,
        at_least=False)
    out["total_s"] = round(time.perf_counter() - started, 1)
    out["targets"] = targets
    return out
