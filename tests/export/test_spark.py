"""Spark reads a ``--partition-by source,month`` export as one dataset: partition columns
from the paths, typed columns from the files.

pyspark is a test dependency (a 320 MB wheel; a Spark session takes 15-25 s to start on a
2-core machine, see docs/scaling.md). Spark needs a Java runtime: without one the test skips.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cscor_tools.export import export_dataset
from cscor_tools.store import Store

pytestmark = pytest.mark.slow

if shutil.which("java") is None:
    pytest.skip("Spark runs on a Java runtime, and there is no `java` on PATH here",
                allow_module_level=True)
pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[test]')")




def test_spark_reads_a_partitioned_export_as_one_dataset(two_sources: Store,
                                                        tmp_path: Path) -> None:
    from pyspark.sql import SparkSession

    out = tmp_path / "lake"
    export_dataset(two_sources, out, partition_by=("source", "month"))
    spark = (SparkSession.builder.master("local[1]").appName("cscor-test")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.local.dir", str(tmp_path / "spark"))
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    try:
        clients = spark.read.parquet(str(out / "clients"))
        types = dict(clients.dtypes)
        assert types["source"] == "string" and types["month"] == "string"
        assert types["created_at"] == "timestamp" and types["balance"] == "bigint"
        counted = [(r["source"], r["month"], r["count"]) for r in
                   clients.groupBy("source", "month").count().orderBy("source", "month")
                   .collect()]
        ids = {r["id"] for r in clients.select("id").collect()}
    finally:
        spark.stop()
    live = [r for batch in two_sources.iter_rows("clients", include_deleted=False) for r in batch]
    expected: dict[tuple[str, str], int] = {}
    for r in live:
        key = (r["source"], r["created_at"].strftime("%Y-%m"))
        expected[key] = expected.get(key, 0) + 1
    assert counted == sorted((s, m, n) for (s, m), n in expected.items())
    assert {s for s, _, _ in counted} == {"stripe", "import"}
    assert ids == {r["id"] for r in live}
