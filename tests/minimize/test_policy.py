"""Policies: the built-ins, TOML parsing, and errors that name the file, the key and the reason."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cscor_tools.errors import PolicyError
from cscor_tools.minimize import Action, builtin_policies, load_policy, parse_policy, plan_policy
from cscor_tools.policies import BUILTIN
from cscor_tools.schema import Privacy


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtins_load_and_resolve_against_the_schema() -> None:
    policies = builtin_policies()
    assert list(policies) == ["portability", "pseudonymized", "accounting"]
    for name, policy in policies.items():
        assert policy.name == name
        assert policy.description
        plan_policy(policy)  # raises if any rule does not fit the schema


def test_portability_keeps_every_class_and_ids() -> None:
    p = load_policy("portability")
    assert p.ids is Action.KEEP
    for privacy in Privacy:
        if privacy is not Privacy.SECRET:
            rule = p.class_rule(privacy)
            assert rule is not None and rule.action is Action.KEEP


def test_pseudonymized_hashes_identifiers_and_ids() -> None:
    p = load_policy("pseudonymized")
    assert p.ids is Action.HASH
    rule = p.class_rule(Privacy.IDENTIFIER)
    assert rule is not None and rule.action is Action.HASH
    free_text = p.class_rule(Privacy.FREE_TEXT)
    assert free_text is not None and free_text.action is Action.DROP


def test_accounting_filters_rows() -> None:
    p = load_policy("accounting")
    assert p.rows.entities == ("clients", "invoices", "invoice_lines", "payments")
    assert p.rows.statuses("invoices") == ("open", "paid", "uncollectible", "void")
    assert p.rows.statuses("clients") is None


def test_fingerprint_follows_rules_not_wording(tmp_path: Path) -> None:
    base = load_policy("pseudonymized")
    renamed = load_policy(
        write(tmp_path, '[policy]\nname = "x"\ndescription = "other"\nextends = "pseudonymized"\n')
    )
    assert renamed.fingerprint() == base.fingerprint()
    changed = load_policy(
        write(tmp_path, '[policy]\nextends = "pseudonymized"\n[classes]\nfinancial = "drop"\n')
    )
    assert changed.fingerprint() != base.fingerprint()
    assert changed.fingerprint() == load_policy(tmp_path / "mine.toml").fingerprint()


def test_extends_overlays_rules(tmp_path: Path) -> None:
    p = load_policy(
        write(
            tmp_path,
            '[policy]\nextends = "portability"\n'
            '[fields]\n"clients.notes" = "redact"\n"*.created_at" = {action = "generalize", '
            'to = "day"}\n[rows]\nsince = 2024-01-01\n',
        )
    )
    assert p.name == "mine"  # the file's stem when unnamed
    rules = p.field_rules()
    assert rules["clients.notes"].action is Action.REDACT
    assert rules["*.created_at"].opts == {"to": "day"}
    assert p.rows.since is not None and p.rows.since.isoformat() == "2024-01-01T00:00:00+00:00"
    keep = p.class_rule(Privacy.IDENTIFIER)
    assert keep is not None and keep.action is Action.KEEP


def test_as_dict_lists_every_rule_and_is_toml_shaped() -> None:
    d = load_policy("accounting").as_dict()
    assert d["fields"]["clients.address"] == "generalize"
    assert d["rows"]["status"]["payments"] == ["succeeded"]
    assert set(d) == {"name", "description", "ids", "classes", "fields", "rows"}


@pytest.mark.parametrize(
    ("toml", "key", "reason"),
    [
        ('[classes]\nidentifier = "obliterate"', "classes.identifier", "unknown action"),
        ('[classes]\nsecretive = "keep"', "classes.secretive", "unknown privacy class"),
        ('[classes]\nsecret = "keep"', "classes.secret", "never leave"),
        ('[fields]\n"clients.email" = {action = "mask", style = "wild"}', "style", "not one of"),
        ('[fields]\n"clients.email" = {action = "hash", salt = "x"}', "salt", "unknown option"),
        ('[fields]\n"clients.email" = {style = "email"}', "clients.email", "no `action`"),
        ('[fields]\n"clients.email" = {action = "drop", otherwise = "keep"}', "otherwise",
         "only class rules"),
        ('[classes]\nnone = {action = "hash", otherwise = "hash"}', "otherwise", "keep"),
        ('[fields]\nemail = "drop"', "fields.'email'", "entity.field"),
        ('[fields]\n"*.created_at" = {action = "generalize", to = "prefix"}', "created_at",
         "needs `length`"),
        ('[fields]\n"clients.phone" = {action = "mask", keep = 40}', "keep", "1 to 16"),
        ('[policy]\nids = "mask"', "policy.ids", "keep"),
        ('[policy]\nextends = "nothing"', "policy.extends", "not a built-in"),
        ('[policy]\ncolour = "red"', "policy.colour", "unknown key"),
        ("[filters]\nx = 1", "filters", "unknown key"),
        ("[rows]\nsince = 2025-01-01\nuntil = 2024-01-01", "rows", "before until"),
        ('[rows]\nsince = "last tuesday"', "rows.since", "not an ISO date"),
        ("[rows]\nentities = []", "rows.entities", "non-empty"),
        ('[rows]\nstatus = {invoices = "paid"}', "rows.status.invoices", "list"),
    ],
)
def test_shape_errors_name_file_key_and_reason(
    tmp_path: Path, toml: str, key: str, reason: str
) -> None:
    path = write(tmp_path, '[policy]\nname = "bad"\n' + toml if "[policy]" not in toml else toml)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert str(path) in message
    assert key in message
    assert reason in message


def test_unknown_builtin_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="built-in policies are portability"):
        load_policy("gdpr")
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "absent.toml")
    bad = write(tmp_path, "[policy\nname=")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(bad)


def test_builtin_texts_are_plain_toml() -> None:
    for name, text in BUILTIN.items():
        assert tomllib.loads(text)["policy"]["name"] == name


def test_parse_policy_accepts_mappings() -> None:
    p = parse_policy({"policy": {"name": "inline"}, "classes": {"none": "keep"}})
    assert p.origin == "builtin"
    assert p.class_rule(Privacy.IDENTIFIER) is None  # unnamed classes are dropped by the plan
