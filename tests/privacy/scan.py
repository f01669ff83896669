"""Reading back everything the privacy bookkeeping holds, to scan it for personal data."""

from __future__ import annotations

import json
import re

from cscor_tools.privacy.audit import audit_log
from cscor_tools.store import Store

TABLES = ("cscor_deletion_log", "cscor_suppression", "cscor_audit", "cscor_corrections")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def bookkeeping_text(store: Store, tables: tuple[str, ...] = TABLES[:3]) -> str:
    """Every value of the deletion log, suppression list and audit log (tables and the merged
    audit log as `cscor audit --json` prints it), as one text."""
    parts = []
    for table in tables:
        for row in store._query(f'SELECT * FROM "{table}"'):
            parts.append(json.dumps([str(v) for v in row]))
    parts += [json.dumps(r.as_dict(), default=str) for r in audit_log(store)]
    return "\n".join(parts)


def assert_no_personal_data(text: str, *values: str) -> None:
    assert not EMAIL.search(text), EMAIL.search(text)
    lowered = text.lower()
    for value in values:
        assert value.lower() not in lowered, value
