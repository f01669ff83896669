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
from cscor_tools.toml_lines import line_label


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
    #: the file's TOML text, to name the line of a key in a later error
    text: str | None = field(default=None, compare=False, repr=False)

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


class PolicyMistakes:
    """Every mistake found in one policy, raised together as one PolicyError.

    A mistake is a key path (``("fields", "clients.email", "style")``) and a reason; where the
    policy's TOML text is known, each names the line of its key ("line ?" when it cannot be told).
    """

    def __init__(self, where: str, text: str | None = None) -> None:
        self.where = where
        self.text = text
        self.found: list[tuple[tuple[str, ...], str]] = []

    def add(self, path: tuple[str, ...], reason: str) -> None:
        self.found.append((path, reason))

    def __bool__(self) -> bool:
        return bool(self.found)

    def lines(self) -> list[str]:
        out = []
        for path, reason in self.found:
            label = _label(path)
            prefix = f"{line_label(self.text, path)}: " if self.text is not None else ""
            out.append(f"{prefix}{label}: {reason}" if label else f"{prefix}{reason}")
        return out

    def raise_if_any(self) -> None:
        lines = self.lines()
        if len(lines) == 1:
            raise PolicyError(f"{self.where}: {lines[0]}")
        if lines:
            listed = "\n".join(f"  {line}" for line in lines)
            raise PolicyError(f"{self.where}: {len(lines)} mistakes:\n{listed}")


def _label(path: tuple[str, ...]) -> str:
    """A key path as the user reads it: ``fields.'clients.email'.style``, ``rows.since``."""
    if len(path) > 1 and path[0] == "fields":
        return ".".join((path[0], repr(path[1]), *path[2:]))
    return ".".join(path)


def load_policy(name_or_path: str | os.PathLike[str] | Policy) -> Policy:
    """A built-in policy by name, or a custom one from a TOML file (validated shape).

    Raises PolicyError naming the file and, one per line, every wrong key with its line and
    the reason.
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
        source = path.read_text(encoding="utf-8")
        data = tomllib.loads(source)
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    return parse_policy(data, origin=str(path), text=source)


def parse_policy(
    data: Mapping[str, Any], *, origin: str = "builtin", text: str | None = None
) -> Policy:
    """A Policy from parsed TOML; ``origin`` names the file and ``text`` (its TOML) the lines.

    Every mistake of shape is collected before one PolicyError lists them all.
    """
    where = "built-in policy" if origin == "builtin" else origin
    m = PolicyMistakes(where, text)
    _only(data, _TOP_KEYS, m, ())
    head = _table(data, "policy", m)
    _only(head, _POLICY_KEYS, m, ("policy",))
    name = head.get("name", Path(origin).stem if origin != "builtin" else None)
    if not isinstance(name, str) or not name:
        m.add(("policy", "name"), "give the policy a name")
        name = "?"
    base = _base(head.get("extends"), m, name)
    description = _string(head, "description", m, "policy") or base.description
    ids = base.ids
    if "ids" in head:
        given = _action(head["ids"], m, ("policy", "ids"))
        if given is not None and given not in (Action.KEEP, Action.HASH):
            m.add(("policy", "ids"), f"must be \"keep\" or \"hash\", not {given.value!r}")
        elif given is not None:
            ids = given
    classes = dict(base.classes)
    for key, raw in _table(data, "classes", m).items():
        try:
            privacy = Privacy(key)
        except ValueError:
            known = ", ".join(p.value for p in Privacy if p is not Privacy.SECRET)
            m.add(("classes", key), f"unknown privacy class (known: {known})")
            continue
        rule = _rule(raw, m, ("classes", key), class_rule=True)
        if privacy is Privacy.SECRET:
            if rule is not None and rule.action is not Action.DROP:
                m.add(
                    ("classes", "secret"),
                    "secret fields never leave the workspace under any policy; remove this rule",
                )
            continue
        if rule is not None:
            classes[privacy] = rule
    fields = dict(base.fields)
    for key, raw in _table(data, "fields", m).items():
        if not isinstance(key, str) or key.count(".") not in (1, 2) or "" in key.split("."):
            m.add(
                ("fields", key),
                "a field is named \"entity.field\", \"entity.field.subfield\" or \"*.field\"",
            )
            continue
        rule = _rule(raw, m, ("fields", key), class_rule=False)
        if rule is not None:
            fields[key] = rule
    rows = _rows(_table(data, "rows", m), base.rows, m)
    m.raise_if_any()
    return Policy(
        name=name,
        description=description,
        ids=ids,
        classes=tuple(sorted(classes.items(), key=lambda kv: list(Privacy).index(kv[0]))),
        fields=tuple(sorted(fields.items())),
        rows=rows,
        origin=origin,
        text=text,
    )


def _base(extends: Any, m: PolicyMistakes, name: str) -> Policy:
    if extends is None:
        return Policy(name=name)
    if not isinstance(extends, str) or extends not in BUILTIN:
        m.add(
            ("policy", "extends"),
            f"{extends!r} is not a built-in policy (built-in: {', '.join(BUILTIN)})",
        )
        return Policy(name=name)
    return load_policy(extends)


def _rule(
    raw: Any, m: PolicyMistakes, key: tuple[str, ...], *, class_rule: bool
) -> Rule | None:
    """The rule at ``key``, or None after adding its mistakes (all of them) to ``m``."""
    if isinstance(raw, str):
        action = _action(raw, m, key)
        return Rule(action) if action is not None else None
    if not isinstance(raw, Mapping):
        m.add(key, "give an action name or a table with `action = …`")
        return None
    if "action" not in raw:
        m.add(key, "the table has no `action`")
        return None
    before = len(m.found)
    action = _action(raw["action"], m, (*key, "action"))
    if action is None:
        return None
    allowed = dict(ACTION_OPTIONS[action])
    options: dict[str, Any] = {}
    otherwise: Action | None = None
    for opt, value in raw.items():
        if opt == "action":
            continue
        if opt == "otherwise":
            if not class_rule:
                m.add(
                    (*key, "otherwise"),
                    "only class rules have a fallback; a field rule must apply to its field",
                )
                continue
            otherwise = _action(value, m, (*key, "otherwise"))
            if otherwise is not None and otherwise not in FALLBACK_ACTIONS:
                m.add((*key, "otherwise"), "must be \"keep\" or \"drop\"")
            continue
        if opt not in allowed:
            accepted = ", ".join(allowed) or "none"
            m.add((*key, opt), f"unknown option for {action.value} (accepted: {accepted})")
            continue
        choices = allowed[opt]
        if choices is not None and value not in choices:
            m.add((*key, opt), f"{value!r} is not one of {', '.join(choices)}")
            continue
        if opt in ("keep", "length") and (
            not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 16
        ):
            m.add((*key, opt), "must be a whole number from 1 to 16")
            continue
        options[opt] = value
    if action is Action.MASK and "keep" in options and options.get("style", "digits") != "digits":
        m.add((*key, "keep"), "only the digits mask keeps digits")
    if action is Action.GENERALIZE and ("length" in options) != (options.get("to") == "prefix"):
        m.add(key, "generalize to a prefix needs `length`, and only it takes one")
    if len(m.found) > before:
        return None
    return Rule(action, tuple(sorted(options.items())), otherwise)


def _action(raw: Any, m: PolicyMistakes, key: tuple[str, ...]) -> Action | None:
    try:
        return Action(raw)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        m.add(key, f"unknown action {raw!r} (known: {known})")
        return None


def _rows(raw: Mapping[str, Any], base: RowFilter, m: PolicyMistakes) -> RowFilter:
    _only(raw, _ROW_KEYS, m, ("rows",))
    out = base
    if "entities" in raw:
        names = raw["entities"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
            m.add(("rows", "entities"), "give a non-empty list of entity names")
        else:
            out = replace(out, entities=tuple(names))
    if "since" in raw:
        out = replace(out, since=_moment(raw["since"], m, ("rows", "since")))
    if "until" in raw:
        out = replace(out, until=_moment(raw["until"], m, ("rows", "until")))
    if out.since and out.until and out.since >= out.until:
        m.add(("rows",), "since must be before until")
    if "status" in raw:
        table = raw["status"]
        if not isinstance(table, Mapping):
            m.add(("rows", "status"), "a table of entity = [statuses]")
            return out
        status = dict(base.status)
        for ent, values in table.items():
            if not isinstance(values, list) or not values or not all(
                isinstance(v, str) for v in values
            ):
                m.add(("rows", "status", ent), "a non-empty list of strings")
                continue
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


def _moment(value: Any, m: PolicyMistakes, key: tuple[str, ...]) -> datetime | None:
    try:
        return parse_moment(value)
    except ValueError as exc:
        m.add(key, str(exc))
        return None


def _table(data: Mapping[str, Any], key: str, m: PolicyMistakes) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        m.add((key,), "must be a table")
        return {}
    return value


def _string(data: Mapping[str, Any], key: str, m: PolicyMistakes, table: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        m.add((table, key), "must be a string")
        return None
    return value


def _only(
    data: Mapping[str, Any], allowed: set[str], m: PolicyMistakes, table: tuple[str, ...]
) -> None:
    for key in sorted(set(data) - allowed):
        m.add((*table, key), f"unknown key (known: {', '.join(sorted(allowed))})")
