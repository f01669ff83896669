"""Resolving a policy against the workspace schema: one action per field, or a PolicyError.

This is the one place that decides what leaves the workspace. Precedence, first match wins:

1. a ``secret`` field (or a sub-field of one) is dropped: nothing in a policy can change that;
2. ``id`` and every foreign key follow the policy's ``ids`` setting together, so joins survive
   (a field rule may only drop a foreign key);
3. a field rule naming the entity (``"clients.email"``), then a wildcard one (``"*.email"``);
4. the rule of the field's privacy class (its ``otherwise`` where the action does not apply);
5. a class the policy does not name is dropped: data leaves only when a policy says so.

A struct's sub-fields inherit the struct's rule (``generalize`` keeps only the country) unless a
rule names the sub-field itself (``"clients.address.city"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cscor_tools.minimize.policy import Action, Policy, PolicyMistakes, Rule
from cscor_tools.schema import ENTITIES, SCHEMA_VERSION, Entity, Field, FieldType, Privacy

if TYPE_CHECKING:
    import pyarrow as pa

_HASHABLE = (FieldType.STRING, FieldType.INTEGER, FieldType.STRING_LIST)


@dataclass(frozen=True)
class FieldPlan:
    """What happens to one field (or struct sub-field), and which rule decided it."""

    field: Field
    path: str  # "email" or "address.country"
    action: Action
    options: tuple[tuple[str, Any], ...] = ()
    rule: str = ""
    #: set when a struct is rebuilt from its sub-fields' own plans
    subfields: tuple[FieldPlan, ...] = ()

    @property
    def kept(self) -> bool:
        if self.subfields:
            return any(s.kept for s in self.subfields)
        return self.action is not Action.DROP

    @property
    def opts(self) -> dict[str, Any]:
        return dict(self.options)

    def describe(self) -> str:
        if self.subfields:
            return "per sub-field"
        opts = "".join(f" {k}={v}" for k, v in self.options)
        return f"{self.action.value}{opts}"

    def arrow_type(self) -> pa.DataType:
        """The type this field has once minimized (a hash is a string, whatever it hashed)."""
        import pyarrow as pa

        from cscor_tools.schema_render import arrow_type

        if self.subfields:
            return pa.struct(
                [pa.field(s.field.name, s.arrow_type()) for s in self.subfields if s.kept]
            )
        if self.action in (Action.HASH, Action.MASK, Action.REDACT):
            if self.field.type == FieldType.STRING_LIST:
                return pa.list_(pa.string())
            return pa.string()
        if self.action is Action.GENERALIZE and self.opts.get("to") in ("network", "prefix"):
            return pa.string()
        return arrow_type(self.field)

    def changes_values(self) -> bool:
        return bool(self.subfields) or self.action not in (Action.KEEP, Action.DROP)


@dataclass(frozen=True)
class EntityPlan:
    """Every field of an entity with its action, in schema order (dropped ones included)."""

    entity: Entity
    fields: tuple[FieldPlan, ...]

    @property
    def output(self) -> tuple[FieldPlan, ...]:
        return tuple(f for f in self.fields if f.kept)

    @property
    def source_columns(self) -> list[str]:
        """The only columns read from the store: a dropped field is never even selected."""
        return [f.field.name for f in self.output]

    @property
    def needs_key(self) -> bool:
        return any(
            f.action is Action.HASH or any(s.action is Action.HASH for s in f.subfields)
            for f in self.output
        )

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema(
            [
                pa.field(
                    f.field.name,
                    f.arrow_type(),
                    nullable=f.field.nullable,
                    metadata={
                        "privacy": f.field.privacy.value,
                        "description": f.field.description,
                        "minimized": f.describe(),
                    },
                )
                for f in self.output
            ],
            metadata={"entity": self.entity.name, "schema_version": SCHEMA_VERSION},
        )

    def actions(self) -> dict[str, str]:
        """path -> action for every field and sub-field: what the manifest records."""
        out: dict[str, str] = {}
        for f in self.fields:
            out[f.path] = f.describe()
            for s in f.subfields:
                out[s.path] = s.describe()
        return out


def plan_policy(policy: Policy, entities: Iterable[str] | None = None) -> dict[str, EntityPlan]:
    """Resolve ``policy`` for the given entities (all by default), checking every rule.

    Every field rule is checked against the whole schema, whichever entities are exported, so a
    typo in a policy is caught on its first use rather than on the day its entity is exported;
    one PolicyError names every mistake found.
    """
    where = "built-in policy" if policy.origin == "builtin" else policy.origin
    m = PolicyMistakes(where, policy.text)
    rules = policy.field_rules()
    _check_rule_targets(rules, m)
    _check_rows(policy, m)
    names = list(entities) if entities is not None else list(ENTITIES)
    plans = {name: _plan_entity(ENTITIES[name], policy, rules, m) for name in ENTITIES}
    m.raise_if_any()  # every mistake in one error, each with its key and line
    return {name: plans[name] for name in names}


def _check_rule_targets(rules: dict[str, Rule], m: PolicyMistakes) -> None:
    for key in rules:
        ent_name, fname, *sub = key.split(".")
        if ent_name == "*":
            owners = [e for e in ENTITIES.values() if e.has_field(fname)]
            if not owners:
                m.add(("fields", key), f"no entity has a field {fname!r}")
                continue
        else:
            if ent_name not in ENTITIES:
                m.add(
                    ("fields", key),
                    f"unknown entity {ent_name!r} (known: {', '.join(ENTITIES)})",
                )
                continue
            ent = ENTITIES[ent_name]
            if not ent.has_field(fname):
                m.add(
                    ("fields", key),
                    f"unknown field {fname!r} in entity {ent_name} "
                    f"(fields: {', '.join(ent.column_names)})",
                )
                continue
            owners = [ent]
        for ent in owners:
            reason = _target_problem(ent, fname, sub, rules[key])
            if reason:
                m.add(("fields", key), reason)
                break


def _target_problem(ent: Entity, fname: str, sub: list[str], rule: Rule) -> str | None:
    """Why a field rule cannot name ``ent.fname[.sub]``, or None."""
    f = ent.field(fname)
    if sub:
        if f.type != FieldType.STRUCT:
            return f"{ent.name}.{fname} has no sub-fields"
        if sub[0] not in {s.name for s in f.fields}:
            return (
                f"unknown sub-field {sub[0]!r} of {fname} "
                f"(sub-fields: {', '.join(s.name for s in f.fields)})"
            )
    if fname == "id":
        return (
            'ids follow `ids = "keep"|"hash"` under [policy], so that every foreign key '
            "changes with them"
        )
    if f.references and rule.action is not Action.DROP:
        return (
            f"{ent.name}.{fname} is a foreign key: it follows `ids` under [policy] so that "
            "joins keep working; a rule may only drop it"
        )
    return None


def _check_rows(policy: Policy, m: PolicyMistakes) -> None:
    for name in policy.rows.entities or ():
        if name not in ENTITIES:
            m.add(
                ("rows", "entities"),
                f"unknown entity {name!r} (known: {', '.join(ENTITIES)})",
            )
    for name, values in policy.rows.status:
        ent = ENTITIES.get(name)
        if ent is None or not ent.has_field("status"):
            having = ", ".join(e.name for e in ENTITIES.values() if e.has_field("status"))
            m.add(
                ("rows", "status", name),
                f"only entities with a status can be filtered by it ({having})",
            )
            continue
        allowed = ent.field("status").enum
        bad = [v for v in values if allowed and v not in allowed]
        if bad:
            m.add(
                ("rows", "status", name),
                f"{bad[0]!r} is not a status of {name} "
                f"({', '.join(allowed or ())})",
            )


def _plan_entity(
    ent: Entity, policy: Policy, rules: dict[str, Rule], m: PolicyMistakes
) -> EntityPlan:
    return EntityPlan(ent, tuple(_plan_field(ent, f, policy, rules, m) for f in ent.fields))


def _plan_field(
    ent: Entity, f: Field, policy: Policy, rules: dict[str, Rule], m: PolicyMistakes
) -> FieldPlan:
    if f.privacy is Privacy.SECRET:
        return FieldPlan(f, f.name, Action.DROP, rule="secret: never exported")
    explicit = _explicit(ent, f.name, rules)
    if f.name == "id" or f.references:
        if explicit is not None:  # only a drop of a foreign key gets here (checked above)
            return FieldPlan(f, f.name, Action.DROP, rule=f"fields.{explicit[0]}")
        return FieldPlan(f, f.name, policy.ids, rule="policy.ids")
    plan = _from_rule(ent, f, f.name, explicit, policy, m)
    if f.type != FieldType.STRUCT or (not plan.kept and not _sub_rules(ent, f, rules)):
        return plan
    subs = []
    for sub in f.fields:
        path = f"{f.name}.{sub.name}"
        own = _explicit(ent, path, rules)
        if sub.privacy is Privacy.SECRET:
            subs.append(FieldPlan(sub, path, Action.DROP, rule="secret: never exported"))
        elif own is not None:
            subs.append(_from_rule(ent, sub, path, own, policy, m))
        else:
            subs.append(_inherit(sub, path, plan))
    if all(s.action is Action.KEEP for s in subs) and plan.action is Action.KEEP:
        return plan
    if not any(s.kept for s in subs):
        return FieldPlan(f, f.name, Action.DROP, rule=plan.rule)
    return FieldPlan(f, f.name, plan.action, plan.options, plan.rule, tuple(subs))


def _inherit(sub: Field, path: str, parent: FieldPlan) -> FieldPlan:
    """A struct's rule applied to one of its sub-fields."""
    action = parent.action
    if action is Action.GENERALIZE:
        # an address generalizes to its country: the country is kept, the rest dropped
        action = Action.KEEP if sub.format == "country" else Action.DROP
        return FieldPlan(sub, path, action, rule=f"{parent.rule} (generalize)")
    return FieldPlan(sub, path, action, parent.options, parent.rule)


def _sub_rules(ent: Entity, f: Field, rules: dict[str, Rule]) -> bool:
    return any(_explicit(ent, f"{f.name}.{s.name}", rules) for s in f.fields)


def _explicit(ent: Entity, path: str, rules: dict[str, Rule]) -> tuple[str, Rule] | None:
    for key in (f"{ent.name}.{path}", f"*.{path}"):
        if key in rules:
            return key, rules[key]
    return None


def _from_rule(
    ent: Entity,
    f: Field,
    path: str,
    explicit: tuple[str, Rule] | None,
    policy: Policy,
    m: PolicyMistakes,
) -> FieldPlan:
    """The plan of one field from its rule; a rule that cannot apply is a mistake (then: drop)."""
    if explicit is not None:
        key, own = explicit
        reason = not_applicable(own.action, own.opts, f)
        if reason:
            m.add(("fields", key), f"{reason} ({ent.name}.{path})")
            return FieldPlan(f, path, Action.DROP, rule=f"fields.{key}")
        return FieldPlan(f, path, own.action, own.options, f"fields.{key}")
    rule = policy.class_rule(f.privacy)
    if rule is None:
        return FieldPlan(f, path, Action.DROP, rule=f"classes.{f.privacy.value} (not named)")
    reason = not_applicable(rule.action, rule.opts, f)
    if reason is None:
        return FieldPlan(f, path, rule.action, rule.options, f"classes.{f.privacy.value}")
    if rule.otherwise is not None:
        return FieldPlan(f, path, rule.otherwise, rule=f"classes.{f.privacy.value}.otherwise")
    m.add(
        ("classes", f.privacy.value),
        f"{reason} ({ent.name}.{path}); add `otherwise = \"drop\"` (or \"keep\") to the "
        f"class rule, or a rule for {ent.name}.{path}",
    )
    return FieldPlan(f, path, Action.DROP, rule=f"classes.{f.privacy.value}")


def not_applicable(action: Action, options: dict[str, Any], f: Field) -> str | None:
    """Why ``action`` cannot apply to field ``f``, or None when it can."""
    t = f.type
    if action in (Action.KEEP, Action.DROP):
        return None
    if action is Action.HASH:
        if t in _HASHABLE or (t == FieldType.STRUCT and all(s.type in _HASHABLE for s in f.fields)):
            return None
        return f"hash does not apply to a {t.value} field"
    if action in (Action.MASK, Action.REDACT):
        if t == FieldType.STRING:
            return None
        return f"{action.value} applies to strings, not {t.value}"
    to = options.get("to")
    if t == FieldType.TIMESTAMP:
        if to in (None, "day", "month", "year"):
            return None
        return f"a timestamp generalizes to a day, month or year, not to {to!r}"
    if t == FieldType.STRUCT:
        if to in (None, "country") and any(s.format == "country" for s in f.fields):
            return None
        return "generalize applies to a struct only when it has a country to keep"
    if t == FieldType.STRING:
        if to in ("network", "prefix") or (to in (None, "country") and f.format == "country"):
            return None
        return (
            "generalize on a string needs `to = \"network\"` (IP addresses) or "
            "`to = \"prefix\"` with a `length`"
        )
    return f"generalize does not apply to a {t.value} field"
