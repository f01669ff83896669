"""What an import did: per-file counts, what was made of the columns, and where rejects went."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cscor_tools.errors import ExitCode

#: how many rejection messages a result keeps for display (the rejects file has them all)
MAX_MESSAGES = 20


@dataclass
class FileResult:
    """One input file (a plain file, or one entity file of a bundle)."""

    entity: str
    file: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sha256: str | None = None
    #: records read (blank lines not counted)
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    #: rows of erased people dropped or anonymized (see cscor_tools.privacy)
    suppressed: int = 0
    #: heading → field it was imported into
    columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    key: str = ""
    notes: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    #: the first rejections as "row N, field 'x': reason"
    messages: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }
        if self.suppressed:  # only where an erased person came back
            counts["suppressed"] = self.suppressed
        return counts


@dataclass
class ImportResult:
    """The outcome of ``import_file``; ``exit_code`` is what the CLI exits with."""

    path: str
    format: str
    source: str
    dry_run: bool
    on_error: str
    files: list[FileResult] = field(default_factory=list)
    run_id: int | None = None
    sha256: str | None = None
    duration_s: float = 0.0
    #: for a bundle: its policy and schema version as the manifest states them
    bundle: dict[str, Any] | None = None

    def _total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def rows(self) -> int:
        return self._total("rows")

    @property
    def inserted(self) -> int:
        return self._total("inserted")

    @property
    def updated(self) -> int:
        return self._total("updated")

    @property
    def unchanged(self) -> int:
        return self._total("unchanged")

    @property
    def rejected(self) -> int:
        return self._total("rejected")

    @property
    def suppressed(self) -> int:
        return self._total("suppressed")

    @property
    def exit_code(self) -> ExitCode:
        """REJECTED_INPUT when rows were skipped, so scripts notice; OK otherwise."""
        return ExitCode.REJECTED_INPUT if self.rejected else ExitCode.OK

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            entry = out.setdefault(f.entity, dict.fromkeys(f.counts(), 0))
            for key, value in f.counts().items():
                entry[key] = entry.get(key, 0) + value
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "source": self.source,
            "dry_run": self.dry_run,
            "on_error": self.on_error,
            "run_id": self.run_id,
            "sha256": self.sha256,
            "duration_s": self.duration_s,
            "bundle": self.bundle,
            "totals": {
                "rows": self.rows,
                "inserted": self.inserted,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "rejected": self.rejected,
                **({"suppressed": self.suppressed} if self.suppressed else {}),
            },
            "files": [asdict(f) for f in self.files],
        }
