"""The audit log: syncs, imports and exports from the run log, and privacy actions (subject
exports, erasures, corrections, retention, key rotations), as one list in time order.

An entry says what was done, when, with which outcome and counts: for an export its policy,
the policy's fingerprint and its destination; for an import its file and sha256; for a
privacy action the keyed hash of the person's address. Never the data itself: no address,
name or phone number (an address in a file name or destination shows as ``[address]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cscor_tools.privacy.access import redact_destination
from cscor_tools.store import RunRecord, Store
from cscor_tools.store import privacy as sql


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    #: sync, import, export, subject.export, subject.erase, subject.correct,
    #: retention.apply, keys.rotate
    action: str
    name: str
    status: str
    subject: str | None
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "action": self.action, "name": self.name,
                "status": self.status, "subject": self.subject, "details": self.details}


def audit_log(store: Store, *, limit: int | None = None) -> list[AuditRecord]:
    """Every entry, oldest first (the last ``limit`` when given)."""
    records = [_from_run(r) for r in store.runs(limit=limit or 1_000_000_000)]
    records += [
        AuditRecord(e.at, e.action, e.action.split(".")[0], "succeeded", e.subject, e.details)
        for e in sql.audit_entries(store)
    ]
    records.sort(key=lambda r: r.at)
    return records[-limit:] if limit else records


def _from_run(run: RunRecord) -> AuditRecord:
    details: dict[str, Any] = {"run_id": run.id, "counts": run.counts}
    info = run.details
    if run.kind == "export":
        details.update({
            "policy": info.get("policy", run.name),
            "fingerprint": info.get("fingerprint"),
            "format": info.get("format"),
            "destination": redact_destination(str(info.get("out", ""))),
        })
    elif run.kind == "import":
        source = info.get("file") or info.get("bundle") or run.name
        details.update({"file": redact_destination(str(source)),
                        "sha256": info.get("sha256")})
    if run.error:
        details["error"] = redact_destination(run.error)
    name = run.name if run.kind != "import" else redact_destination(run.name)
    return AuditRecord(run.started_at, run.kind, name, str(run.status), None, details)
