"""Export benchmark: rows/s under `pseudonymized` against a bare pyarrow write, and peak memory.

``python -m benchmarks export [--json] [--set KEY=VALUE]``; keys (defaults):

- ``invoices`` (1000000), ``clients`` (200000): the SQLite workspace measured;
- ``big_invoices`` (3 × invoices): the second size of the memory measurement;
- ``formats`` (parquet,csv,jsonl), ``rss_formats`` (same): what is timed, and what is measured
  for memory;
- ``cache`` (``$TMPDIR/cscor-bench-export``): where generated workspaces are kept between runs.

For each format, the same rows (all clients and invoices) are read from the same store with
the same Arrow read path and written twice: bare (pyarrow's Parquet or CSV writer, Polars for
JSON Lines; no policy, no bundle), and by ``export_bundle`` under ``pseudonymized`` (policy,
checksums, datapackage, manifest, atomic rename). ``<format>_ratio`` is export rows/s over bare
rows/s. Peak memory is measured in a child process per size and format (its
``VmHWM``), so one measurement cannot inherit another's peak.

Memory is bounded rather than proportional: a batch of rows, one Parquet row group, the
pseudonym memo (at most 2^19 values) and SQLite's page cache. Small quick runs
(``--set invoices=20000``) stop before those bounds fill, so their memory still grows with
size; the 1M/3M comparison is past them.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchmarks

ROOT = Path(__file__).resolve().parents[1]
ENTITIES = ["clients", "invoices"]
_GENERATOR_VERSION = 1


def run(options: dict[str, str]) -> dict[str, Any]:
    invoices = int(options.get("invoices", 1_000_000))
    clients = int(options.get("clients", 200_000))
    big = int(options.get("big_invoices", 3 * invoices))
    formats = options.get("formats", "parquet,csv,jsonl").split(",")
    rss_formats = options.get("rss_formats", ",".join(formats)).split(",")
    cache = Path(options.get("cache", Path(tempfile.gettempdir()) / "cscor-bench-export"))
    cache.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    db = workspace(cache, clients, invoices)
    big_db = workspace(cache, clients, big)
    out: dict[str, Any] = {
        "invoices": invoices,
        "clients": clients,
        "big_invoices": big,
        "generate_s": round(time.perf_counter() - started, 1),
    }
    _warm(db)
    targets: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="cscor-bench-out-", dir=cache))
    try:
        for fmt in formats:
            bare_rows, bare_s = bare_write(db, fmt, work / f"bare.{fmt}")
            ours_rows, ours_s, size = export_timed(db, fmt, work / f"bundle-{fmt}")
            assert bare_rows == ours_rows, (bare_rows, ours_rows)
            ratio = (ours_rows / ours_s) / (bare_rows / bare_s)
            out[f"{fmt}_bare_rows_per_s"] = round(bare_rows / bare_s)
            out[f"{fmt}_export_rows_per_s"] = round(ours_rows / ours_s)
            out[f"{fmt}_export_bytes"] = size
            out[f"{fmt}_ratio"] = round(ratio, 3)
            if fmt == "parquet":
                targets["parquet_ratio"] = benchmarks.target(ratio, 0.5)
        growth = []
        for fmt in rss_formats:
            small_mb = peak_rss_mb(db, fmt, work / f"rss-small-{fmt}")
            big_mb = peak_rss_mb(big_db, fmt, work / f"rss-big-{fmt}")
            out[f"{fmt}_peak_rss_mb_at_{invoices}"] = round(small_mb, 1)
            out[f"{fmt}_peak_rss_mb_at_{big}"] = round(big_mb, 1)
            growth.append(big_mb / small_mb - 1)
        if growth:
            out["rss_growth"] = round(max(growth), 4)
            targets["rss_growth"] = benchmarks.target(max(growth), 0.15, at_least=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["targets"] = targets
    return out


# -- the two writes compared --------------------------------------------------------------


def bare_write(db: Path, fmt: str, target: Path) -> tuple[int, float]:
    """The same rows, read by the same Arrow path, written by the library with no policy."""
    import polars as pl
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from cscor_tools.schema import ENTITIES as SCHEMA
    from cscor_tools.schema import Privacy
    from cscor_tools.store import open_store
    from cscor_tools.store.arrow import read_batches

    target.mkdir()
    rows = 0
    started = time.perf_counter()
    with open_store(db) as store:
        for name in ENTITIES:
            columns = [f.name for f in SCHEMA[name].fields if f.privacy is not Privacy.SECRET]
            path = target / f"{name}.{fmt}"
            writer: Any = None
            with path.open("wb") as sink:
                for batch in read_batches(store, name, columns=columns):
                    rows += batch.num_rows
                    if fmt == "parquet":
                        writer = writer or pq.ParquetWriter(sink, batch.schema, compression="zstd")
                        writer.write_batch(batch)
                        continue
                    frame = pl.from_arrow(batch)
                    assert isinstance(frame, pl.DataFrame)
                    if fmt == "jsonl":
                        frame.write_ndjson(sink)
                        continue
                    # pyarrow's CSV writer has no nested types: JSON text, as any writer would
                    nested = [n for n, t in frame.schema.items()
                              if isinstance(t, pl.Struct | pl.List)]
                    flat = frame.with_columns(
                        [pl.struct(pl.col(n)).struct.json_encode().alias(n) for n in nested]
                    ).to_arrow()
                    writer = writer or pacsv.CSVWriter(sink, flat.schema)
                    writer.write_table(flat)
                if writer is not None:
                    writer.close()
    return rows, time.perf_counter() - started


def export_timed(db: Path, fmt: str, target: Path) -> tuple[int, float, int]:
    from cscor_tools.export import export_bundle

    started = time.perf_counter()
    result = export_bundle(
        db, target, format=fmt, policy="pseudonymized", entities=ENTITIES, include_deleted=True
    )
    return result.rows, time.perf_counter() - started, result.bytes


_CHILD = f"""
import sys
from cscor_tools.export import export_bundle
export_bundle(sys.argv[1], sys.argv[2], format=sys.argv[3], policy="pseudonymized",
              entities={ENTITIES!r}, include_deleted=True)
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def peak_rss_mb(db: Path, fmt: str, target: Path) -> float:
    """Peak resident memory of an export run alone in a fresh process, in MiB.

    Read by the child itself (``VmHWM``) rather than from ``wait4``'s ``ru_maxrss``: Linux
    carries into the latter the size of the parent the child was forked from, which would
    make every child look as large as this benchmark process.
    """
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(db), str(target), fmt],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"the {fmt} export of {db} failed in its child:\n{done.stderr}")
    return int(done.stdout.split()[-1]) / 1024  # kB


# -- the workspace measured -----------------------------------------------------------------


def workspace(cache: Path, clients: int, invoices: int) -> Path:
    """A SQLite workspace with these many rows, generated once and kept in ``cache``."""
    path = cache / f"ws-v{_GENERATOR_VERSION}-{clients}c-{invoices}i.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    for stale in cache.glob(f"{tmp.name}*"):
        stale.unlink()
    from cscor_tools.store import open_store

    open_store(tmp).close()  # created and migrated by the store itself
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-500000")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('clients', 'invoices')"
    ).fetchall()
    for name, _ in indexes:  # bulk load first, index after: several times faster
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute("BEGIN")
    _insert(conn, "clients", _client_rows(clients))
    _insert(conn, "invoices", _invoice_rows(clients, invoices))
    conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    conn.close()
    tmp.rename(path)
    return path


#: the columns the generators below fill, in their order; a field the schema gains later is
#: left null, so the benchmark keeps measuring the same rows
_PROVENANCE = ("id", "source", "source_id", "source_version", "created_at", "updated_at",
               "deleted", "deleted_at", "deleted_reason", "synced_at")
_COLUMNS = {
    "clients": (*_PROVENANCE, "name", "email", "phone", "company", "address", "currency",
                "balance", "notes", "rating", "workflow_state", "tags", "livemode"),
    "invoices": (*_PROVENANCE, "client_id", "number", "status", "currency", "subtotal", "tax",
                 "total", "amount_due", "amount_paid", "amount_remaining", "customer_name",
                 "customer_email", "description", "issued_at", "due_at", "paid_at",
                 "period_start", "period_end", "subscription_id", "hosted_invoice_url",
                 "livemode"),
}


def _insert(conn: sqlite3.Connection, table: str, rows: Any) -> None:
    names = _COLUMNS[table]
    columns = ", ".join(f'"{n}"' for n in names)
    conn.executemany(
        f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(names))})', rows
    )


def _times(count: int) -> list[str]:
    """Distinct fixed-width UTC times over three years, formatted once and reused."""
    from cscor_tools.store.sqlite import encode_time

    start = datetime(2022, 1, 1, tzinfo=UTC)
    return [encode_time(start + timedelta(seconds=i * 9_461, microseconds=i)) for i in range(count)]


def _client_rows(n: int) -> Any:
    from cscor_tools.schema import make_id
    from cscor_tools.store.base import dumps_json

    rnd = random.Random(1)
    times = _times(10_007)
    synced = times[-1]
    countries = ["FR", "DE", "US", "GB", "ES", "IT", "NL"]
    states = ("lead", "active", "on_hold", "archived")
    for i in range(n):
        sid = f"cus_{i:010d}"
        deleted = i % 97 == 0
        address = {"line1": f"{i} Main Street", "line2": None, "city": f"City {i % 500}",
                   "postal_code": f"{10000 + i % 89999}", "state": None,
                   "country": countries[i % len(countries)]}
        yield (
            make_id("clients", "stripe", sid), "stripe", sid, "2024-06-20",
            times[i % 10_007], times[(i + 11) % 10_007], int(deleted),
            synced if deleted else None, "event" if deleted else None, synced,
            f"Client {i}", f"client{i}@example.com", f"+1 555 {i % 10_000_000:07d}",
            f"Company {i % 50_000}", dumps_json(address), "eur", -rnd.randrange(100_000),
            f"Met at conference, call +1 555 {i:07d}", 1 + i % 5, states[i % 4],
            dumps_json(["vip", f"segment-{i % 7}"]) if i % 3 else None, 1,
        )


def _invoice_rows(clients: int, n: int) -> Any:
    from cscor_tools.schema import make_id

    rnd = random.Random(2)
    times = _times(65_521)
    synced = times[-1]
    client_ids = [make_id("clients", "stripe", f"cus_{i:010d}") for i in range(clients)]
    statuses = ("paid", "paid", "paid", "open", "void", "draft", "uncollectible")
    for i in range(n):
        c = rnd.randrange(clients)
        sid = f"in_{i:012d}"
        status = statuses[i % len(statuses)]
        subtotal = rnd.randrange(100, 500_000)
        tax = subtotal // 5
        total = subtotal + tax
        paid = total if status == "paid" else 0
        t = i % 65_521
        yield (
            make_id("invoices", "stripe", sid), "stripe", sid, "2024-06-20",
            times[t], times[(t + 3) % 65_521], 0, None, None, synced,
            client_ids[c], f"INV-{i:08d}", status, "eur", subtotal, tax, total, total,
            paid, total - paid, f"Client {c}", f"client{c}@example.com",
            f"Consulting for client{c}@example.com", times[t], times[(t + 30) % 65_521],
            times[(t + 5) % 65_521] if paid else None, times[t], times[(t + 29) % 65_521],
            f"sub_{c:08d}" if i % 2 else None, f"https://invoice.example/i/{sid}/secret", 1,
        )


def _warm(db: Path) -> None:
    """Read the database file once, so the first timed run does not pay for a cold cache."""
    with db.open("rb") as f:
        while f.read(1 << 24):
            pass


if __name__ == "__main__":  # pragma: no cover - the harness is `python -m benchmarks export`
    print(json.dumps(run(dict(a.split("=", 1) for a in sys.argv[1:])), indent=2))
