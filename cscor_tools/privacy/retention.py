"""Retention: rows past their period deleted or anonymized, per entity, exact to the second.

A retention policy is TOML; every entity it names gets a period, the timestamp field the
period runs from and what happens after it::

    [retention.notifications]
    keep = "2y"              # y, mo, w, d, h, m, s; combined: "1y6mo", "36h"
    field = "sent_at"        # default: created_at
    action = "delete"        # or "anonymize" (the fields erasure clears, rules.py)

    [retention.deleted]      # rows their source deleted (tombstones), in every entity
    keep = "90d"             # from deleted_at; always deleted

A row is past its period when its field is strictly before ``now - keep``: a row exactly
``keep`` old stays, one a second older goes. Years and months are calendar ones (29 February
less a year is 28 February). A row whose field is empty is kept. :data:`DEFAULTS` is the
policy when none is given. The deletion log and the audit log are never subject to it: the
privacy policy keeps deletion records for legal reasons.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cscor_tools.errors import PolicyError
from cscor_tools.privacy.rules import RULES, rule
from cscor_tools.schema import ENTITIES, FieldType
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql

DELETED = "deleted"
ACTIONS = ("delete", "anonymize")
_UNIT = re.compile(r"(\d+)\s*(y|mo|w|d|h|m|s)")

DEFAULTS_TOML = """\
# Messages: two years after they were sent.
[retention.notifications]
keep = "2y"
field = "sent_at"
action = "delete"

# The books: ten years (the longest tax retention of the countries served), then the amounts
# stay and the person goes.
[retention.invoices]
keep = "10y"
action = "anonymize"

[retention.invoice_lines]
keep = "10y"
action = "anonymize"

[retention.payments]
keep = "10y"
action = "anonymize"

# Rows their source deleted: kept 90 days (to answer "where did it go?"), then removed.
[retention.deleted]
keep = "90d"
"""


@dataclass(frozen=True)
class Period:
    """A retention period: calendar months plus a fixed number of seconds."""

    months: int
    seconds: int
    text: str

    @classmethod
    def parse(cls, text: str, where: str) -> Period:
        compact = str(text).strip().lower().replace(" ", "")
        parts = _UNIT.findall(compact)
        if not parts or "".join(n + u for n, u in parts) != compact:
            raise PolicyError(f"{where}: keep = {text!r}: a period such as 90d, 2y or 1y6mo "
                              "(units y, mo, w, d, h, m, s)")
        months = seconds = 0
        for number, unit in parts:
            n = int(number)
            if unit == "y":
                months += 12 * n
            elif unit == "mo":
                months += n
            else:
                seconds += n * {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
        return cls(months, seconds, str(text))

    def before(self, moment: datetime) -> datetime:
        """``moment`` less this period: the cutoff a row must be older than."""
        total = moment.year * 12 + moment.month - 1 - self.months
        year, month = divmod(total, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day) - timedelta(
            seconds=self.seconds
        )


@dataclass(frozen=True)
class Rule:
    entity: str
    keep: Period
    field: str
    action: str


@dataclass(frozen=True)
class RetentionPolicy:
    rules: tuple[Rule, ...]
    #: how long tombstones are kept (None: as long as their rows)
    deleted: Period | None
    origin: str

    def fingerprint(self) -> str:
        data = {
            "rules": [[r.entity, r.keep.months, r.keep.seconds, r.field, r.action]
                      for r in self.rules],
            "deleted": [self.deleted.months, self.deleted.seconds] if self.deleted else None,
        }
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def load_retention_policy(path: str | os.PathLike[str] | None = None) -> RetentionPolicy:
    """The policy of a TOML file, or the defaults; PolicyError names the file, key and reason."""
    if path is None:
        return parse_retention_policy(tomllib.loads(DEFAULTS_TOML), origin="defaults")
    where = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{where}: retention policy file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{where}: not valid TOML: {exc}") from None
    return parse_retention_policy(data, origin=where)


def parse_retention_policy(data: dict[str, Any], *, origin: str) -> RetentionPolicy:
    where = origin
    if set(data) - {"retention"}:
        raise PolicyError(f"{where}: unknown table {sorted(set(data) - {'retention'})[0]!r} "
                          "(a retention policy holds [retention.ENTITY] tables)")
    tables = data.get("retention", {})
    rules: list[Rule] = []
    deleted: Period | None = None
    for name, spec in tables.items():
        key = f"retention.{name}"
        if not isinstance(spec, dict):
            raise PolicyError(f"{where}: {key}: a table with keep, field and action")
        if name == DELETED:
            if set(spec) - {"keep"}:
                raise PolicyError(f"{where}: {key}: only keep applies to deleted rows")
            deleted = Period.parse(spec.get("keep", ""), f"{where}: {key}")
            continue
        if name not in ENTITIES:
            raise PolicyError(f"{where}: {key}: unknown entity (known: "
                              f"{', '.join(ENTITIES)}, or deleted)")
        unknown = set(spec) - {"keep", "field", "action"}
        if unknown:
            raise PolicyError(f"{where}: {key}.{sorted(unknown)[0]}: unknown key")
        if "keep" not in spec:
            raise PolicyError(f"{where}: {key}.keep: say how long rows are kept")
        field = spec.get("field", "created_at")
        ent = ENTITIES[name]
        if not ent.has_field(field) or ent.field(field).type is not FieldType.TIMESTAMP:
            raise PolicyError(f"{where}: {key}.field: {field!r} is not a time of {name}")
        action = spec.get("action", "delete")
        if action not in ACTIONS:
            raise PolicyError(f"{where}: {key}.action: {action!r} (use delete or anonymize)")
        rules.append(Rule(name, Period.parse(spec["keep"], f"{where}: {key}"), field, action))
    return RetentionPolicy(tuple(rules), deleted, origin)


@dataclass(frozen=True)
class RetentionResult:
    dry_run: bool
    now: datetime
    #: entity -> {"deleted"|"anonymized": rows, "cutoff": ISO time}
    entities: dict[str, dict[str, Any]]
    policy: str
    fingerprint: str

    @property
    def rows(self) -> int:
        return sum(v.get("deleted", 0) + v.get("anonymized", 0) + v.get("tombstones_deleted", 0)
                   for v in self.entities.values())

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "now": self.now.isoformat(), "policy": self.policy,
                "fingerprint": self.fingerprint, "rows": self.rows, "entities": self.entities}


def apply_retention(
    store: Store,
    policy: RetentionPolicy | str | os.PathLike[str] | None = None,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RetentionResult:
    """Delete or anonymize the rows past their period, in one transaction (module docstring)."""
    chosen = policy if isinstance(policy, RetentionPolicy) else load_retention_policy(policy)
    at = now or datetime.now(UTC)
    report: dict[str, dict[str, Any]] = {}
    with store.transaction():
        for r in chosen.rules:
            cutoff = r.keep.before(at)
            ids = sql.older_than(store, r.entity, r.field, cutoff)
            entry = report.setdefault(r.entity, {})
            entry["cutoff"] = cutoff.isoformat()
            if r.action == "delete":
                entry["deleted"] = len(ids)
                if not dry_run:
                    sql.delete_rows(store, r.entity, ids)
            else:
                cleared = (RULES.get(r.entity) or rule(r.entity)).cleared
                entry["anonymized"] = len(ids)
                if not dry_run:
                    sql.clear_fields(store, r.entity, ids, cleared, at)
        if chosen.deleted is not None:
            cutoff = chosen.deleted.before(at)
            for name in ENTITIES:
                ids = sql.older_than(store, name, "deleted_at", cutoff)
                if ids:
                    entry = report.setdefault(name, {})
                    entry["tombstones_deleted"] = len(ids)
                    entry["tombstone_cutoff"] = cutoff.isoformat()
                    if not dry_run:
                        sql.delete_rows(store, name, ids)
        result = RetentionResult(dry_run, at, report, chosen.origin, chosen.fingerprint())
        if not dry_run:
            sql.log_audit(store, at, "retention.apply", None,
                          {"policy": chosen.origin, "fingerprint": chosen.fingerprint(),
                           "entities": report})
    return result
