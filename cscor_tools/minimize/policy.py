"""Minimization policies: what they say, and reading them from TOML with errors that name the fix.

A policy maps privacy classes, and where needed single fields (nested paths too), to actions,
and may filter rows. Its TOML form::

    [policy]
    name = "my-policy"
    description = "What this export is for."
    extends = "pseudonymized"   # optional: start from a built-in policy
    ids = "hash"                # keep | hash: ids and the foreign keys pointing at them, together

    [classes]                   # privacy class -> action; a class not named is dropped
    identifier = "hash"
    quasi_identifier = { action = "generalize", otherwise = "drop" }

    [fields]                    # "entity.field", "entity.struct.sub" or "*.field" -> action
    "clients.address" = "generalize"
    "*.created_at" = { action = "generalize", to = "day" }

    [rows]
    entities = ["clients", "invoices"]
    since = 2024-01-01          # created_at >= since
    until = 2025-01-01          # created_at < until
    status = { invoices = ["open", "paid"] }

Checks against the workspace schema (unknown field, action not allowed for a type…) happen in
``plan.py``, which knows the schema; this module checks the shape of the policy itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any

from cscor_tools.errors import PolicyError
from cscor_tools.policies import BUILTIN
from cscor_tools.schema import Privacy


class Action(StrEnum):
    KEEP = "keep"
    DROP = "drop"
    HASH = "hash"  # HMAC-SHA256 pseudonym under the workspace key
    MASK = "mask"  # a***@example.com, ***1234, J***
    GENERALIZE = "generalize"  # timestamp -> day/month/year, address -> country, IP -> network
    REDACT = "redact"  # scrub emails, phones, URLs and card numbers out of free text


#: the options each action accepts, with the values allowed (None: checked by the action)
ACTION_OPTIONS: dict[Action, dict[str, tuple[str, ...] | None]] = {
    Action.KEEP: {},
    Action.DROP: {},
    Action.HASH: {},
    Action.MASK: {"style": ("email", "digits", "initial"), "keep": None},
    Action.GENERALIZE: {
        "to": ("day", "month", "year", "country", "network", "prefix"),
        "length": None,
    },
    Action.REDACT: {},
}
#: what a class rule may fall back to where its action does not apply to a field's type
FALLBACK_ACTIONS = (Action.KEEP, Action.DROP)
_POLICY_KEYS = {"name", "description", "extends", "ids"}
_ROW_KEYS = {"entities", "since", "until", "status"}
_TOP_KEYS = {"policy", "classes", "fields", "rows"}


@dataclass(frozen=True)
class Rule:
    """One action with its options; ``otherwise`` is a class rule's fallback."""

    action: Action
    options: tuple[tuple[str, Any], ...] = ()
    otherwise: Action | None = None

    @property
    def opts(self) -> dict[str, Any]:
        return dict(self.options)

    def describe(self) -> str | dict[str, Any]:
        """The rule as it would be written in TOML: a bare action, or a table."""
        if not self.options and self.otherwise is None:
            return self.action.value
        out: dict[str, Any] = {"action": self.action.value, **dict(self.options)}
        if self.otherwise is not None:
            out["otherwise"] = self.otherwise.value
        return out


@dataclass(frozen=True)
class RowFilter:
    """Which rows a policy lets out: entities, a created_at range [since, until), statuses."""

    entities: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    status: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def statuses(self, entity_name: str) -> tuple[str, ...] | None:
        return dict(self.status).get(entity_name)


@dataclass(frozen=True)
class Policy:
    """A minimization policy: resolved (``extends`` applied) and checked for shape."""

    name: str
    description: str = ""
    ids: Action = Action.KEEP
    classes: tuple[tuple[Privacy, Rule], ...] = ()
    fields: tuple[tuple[str, Rule], ...] = ()
    rows: RowFilter = field(default_factory=RowFilter)
    #: "builtin" or the file the policy was read from
    origin: str = "builtin"

    def class_rule(self, privacy: Privacy) -> Rule | None:
        return dict(self.classes).get(privacy)

    def field_rules(self) -> dict[str, Rule]:
        return dict(self.fields)

    def as_dict(self) -> dict[str, Any]:
        """Every rule of the policy, in a canonical JSON-ready form (for the manifest)."""
        rows: dict[str, Any] = {}
        if self.rows.entities is not None:
            rows["entities"] = list(self.rows.entities)
        if self.rows.since is not None:
            rows["since"] = _iso(self.rows.since)
        if self.rows.until is not None:
            rows["until"] = _iso(self.rows.until)
        if self.rows.status:
            rows["status"] = {e: list(v) for e, v in self.rows.status}
        return {
            "name": self.name,
            "description": self.description,
            "ids": self.ids.value,
            "classes": {p.value: r.describe() for p, r in self.classes},
            "fields": {path: r.describe() for path, r in self.fields},
            "rows": rows,
        }

    def fingerprint(self) -> str:
        """sha256 of the canonical rules: two policies with one fingerprint minimize alike."""
        rules = self.as_dict()
        # the name and wording do not change what leaves the workspace
        del rules["name"], rules["description"]
        text = json.dumps(rules, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def load_policy(name_or_path: str | os.PathLike[str] | Policy) -> Policy:
    """A built-in policy by name, or a custom one from a TOML file (validated shape).

    Raises PolicyError naming the file, the key and the reason when the policy is wrong.
    """
    if isinstance(name_or_path, Policy):
        return name_or_path
    text = str(name_or_path)
    if text in BUILTIN:
        return parse_policy(tomllib.loads(BUILTIN[text]), origin="builtin")
    path = Path(text)
    if path.suffix != ".toml" and not path.exists():
        raise PolicyError(
            f"unknown policy {text!r}: built-in policies are {', '.join(BUILTIN)}; "
            "a custom policy is a path to a .toml file"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    return parse_policy(data, origin=str(path))


def parse_policy(data: Mapping[str, Any], *, origin: str = "builtin") -> Policy:
    """A Policy from parsed TOML; ``origin`` names the file in every error."""
    where = "built-in policy" if origin == "builtin" else origin
    _only(data, _TOP_KEYS, where, "")
    head = _table(data, "policy", where)
    _only(head, _POLICY_KEYS, where, "policy.")
    name = head.get("name", Path(origin).stem if origin != "builtin" else None)
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{where}: policy.name: give the policy a name")
    base = _base(head.get("extends"), where, name)
    description = _string(head, "description", where, "policy.") or base.description
    ids = base.ids
    if "ids" in head:
        ids = _action(head["ids"], where, "policy.ids")
        if ids not in (Action.KEEP, Action.HASH):
            raise PolicyError(
                f"{where}: policy.ids: must be \"keep\" or \"hash\", not {ids.value!r}"
            )
    classes = dict(base.classes)
    for key, raw in _table(data, "classes", where).items():
        try:
            privacy = Privacy(key)
        except ValueError:
            known = ", ".join(p.value for p in Privacy if p is not Privacy.SECRET)
            raise PolicyError(
                f"{where}: classes.{key}: unknown privacy class (known: {known})"
            ) from None
        rule = _rule(raw, where, f"classes.{key}", class_rule=True)
        if privacy is Privacy.SECRET:
            if rule.action is not Action.DROP:
                raise PolicyError(
                    f"{where}: classes.secret: secret fields never leave the workspace under "
                    "any policy; remove this rule"
                )
            continue
        classes[privacy] = rule
    fields = dict(base.fields)
    for key, raw in _table(data, "fields", where).items():
        if not isinstance(key, str) or key.count(".") not in (1, 2) or "" in key.split("."):
            raise PolicyError(
                f"{where}: fields.{key!r}: a field is named \"entity.field\", "
                "\"entity.field.subfield\" or \"*.field\""
            )
        fields[key] = _rule(raw, where, f"fields.{key!r}", class_rule=False)
    rows = _rows(_table(data, "rows", where), base.rows, where)
    return Policy(
        name=name,
        description=description,
        ids=ids,
        classes=tuple(sorted(classes.items(), key=lambda kv: list(Privacy).index(kv[0]))),
        fields=tuple(sorted(fields.items())),
        rows=rows,
        origin=origin,
    )


def _base(extends: Any, where: str, name: str) -> Policy:
    if extends is None:
        return Policy(name=name)
    if not isinstance(extends, str) or extends not in BUILTIN:
        raise PolicyError(
            f"{where}: policy.extends: {extends!r} is not a built-in policy "
            f"(built-in: {', '.join(BUILTIN)})"
        )
    return load_policy(extends)


def _rule(raw: Any, where: str, key: str, *, class_rule: bool) -> Rule:
    if isinstance(raw, str):
        return Rule(_action(raw, where, key))
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: {key}: give an action name or a table with `action = …`")
    if "action" not in raw:
        raise PolicyError(f"{where}: {key}: the table has no `action`")
    action = _action(raw["action"], where, f"{key}.action")
    allowed = dict(ACTION_OPTIONS[action])
    options: dict[str, Any] = {}
    otherwise: Action | None = None
    for opt, value in raw.items():
        if opt == "action":
            continue
        if opt == "otherwise":
            if not class_rule:
                raise PolicyError(
                    f"{where}: {key}.otherwise: only class rules have a fallback; a field rule "
                    "must apply to its field"
                )
            otherwise = _action(value, where, f"{key}.otherwise")
            if otherwise not in FALLBACK_ACTIONS:
                raise PolicyError(f"{where}: {key}.otherwise: must be \"keep\" or \"drop\"")
            continue
        if opt not in allowed:
            accepted = ", ".join(allowed) or "none"
            raise PolicyError(
                f"{where}: {key}.{opt}: unknown option for {action.value} (accepted: {accepted})"
            )
        choices = allowed[opt]
        if choices is not None and value not in choices:
            raise PolicyError(
                f"{where}: {key}.{opt}: {value!r} is not one of {', '.join(choices)}"
            )
        if opt in ("keep", "length") and (
            not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 16
        ):
            raise PolicyError(f"{where}: {key}.{opt}: must be a whole number from 1 to 16")
        options[opt] = value
    if action is Action.MASK and "keep" in options and options.get("style", "digits") != "digits":
        raise PolicyError(f"{where}: {key}.keep: only the digits mask keeps digits")
    if action is Action.GENERALIZE and ("length" in options) != (options.get("to") == "prefix"):
        raise PolicyError(
            f"{where}: {key}: generalize to a prefix needs `length`, and only it takes one"
        )
    return Rule(action, tuple(sorted(options.items())), otherwise)


def _action(raw: Any, where: str, key: str) -> Action:
    try:
        return Action(raw)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise PolicyError(f"{where}: {key}: unknown action {raw!r} (known: {known})") from None


def _rows(raw: Mapping[str, Any], base: RowFilter, where: str) -> RowFilter:
    _only(raw, _ROW_KEYS, where, "rows.")
    out = base
    if "entities" in raw:
        names = raw["entities"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
            raise PolicyError(f"{where}: rows.entities: give a non-empty list of entity names")
        out = replace(out, entities=tuple(names))
    if "since" in raw:
        out = replace(out, since=_moment(raw["since"], where, "rows.since"))
    if "until" in raw:
        out = replace(out, until=_moment(raw["until"], where, "rows.until"))
    if out.since and out.until and out.since >= out.until:
        raise PolicyError(f"{where}: rows: since must be before until")
    if "status" in raw:
        table = raw["status"]
        if not isinstance(table, Mapping):
            raise PolicyError(f"{where}: rows.status: a table of entity = [statuses]")
        status = dict(base.status)
        for ent, values in table.items():
            if not isinstance(values, list) or not values or not all(
                isinstance(v, str) for v in values
            ):
                raise PolicyError(f"{where}: rows.status.{ent}: a non-empty list of strings")
            status[ent] = tuple(values)
        out = replace(out, status=tuple(sorted(status.items())))
    return out


def parse_moment(value: Any) -> datetime:
    """A date or datetime (TOML value or ISO text) as an aware UTC datetime; naive means UTC."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                date.fromisoformat(text)
                if len(text) == 10
                else datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date or date-time") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise ValueError(f"{value!r} is not a date")


def _moment(value: Any, where: str, key: str) -> datetime:
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise PolicyError(f"{where}: {key}: {exc}") from None


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: {key}: must be a table")
    return value


def _string(data: Mapping[str, Any], key: str, where: str, prefix: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise PolicyError(f"{where}: {prefix}{key}: must be a string")
    return value


def _only(data: Mapping[str, Any], allowed: set[str], where: str, prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PolicyError(
            f"{where}: {prefix}{unknown[0]}: unknown key (known: {', '.join(sorted(allowed))})"
        )
