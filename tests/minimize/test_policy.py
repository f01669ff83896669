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


THREE_SHAPE_MISTAKES = """\
[policy]
name = "three"
colour = "red"

[classes]
identifier = "hash"

[fields]
"clients.email" = {action = "mask", style = "wild"}
"clients.phone" = "scramble"
"""


def test_every_shape_mistake_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_SHAPE_MISTAKES)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    first, *mistakes = str(info.value).splitlines()
    assert first == f"{path}: 3 mistakes:"
    assert [m.split(": ")[:2] for m in mistakes] == [
        ["  line 3", "policy.colour"],
        ["  line 9", "fields.'clients.email'.style"],
        ["  line 10", "fields.'clients.phone'"],
    ]
    assert "'wild' is not one of" in mistakes[1] and "unknown action 'scramble'" in mistakes[2]


def test_every_schema_mistake_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """\
[policy]
name = "schema"

[fields]
"clients.nosuch" = "drop"
"planets.name" = "drop"
"clients.created_at" = "redact"

[rows]
entities = ["clients"]
status = {clients = ["open"]}
""")
    policy = load_policy(path)  # the shape is right: the schema is checked by the plan
    with pytest.raises(PolicyError) as info:
        plan_policy(policy)
    first, *mistakes = str(info.value).splitlines()
    assert first == f"{path}: 4 mistakes:"
    assert [m.split(": ")[:2] for m in mistakes] == [
        ["  line 5", "fields.'clients.nosuch'"],
        ["  line 6", "fields.'planets.name'"],
        ["  line 11", "rows.status.clients"],
        ["  line 7", "fields.'clients.created_at'"],
    ]
    assert "unknown field 'nosuch'" in mistakes[0] and "unknown entity 'planets'" in mistakes[1]


def test_one_mistake_is_named_alone_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[policy]\nname = "one"\n\n[rows]\nentities = []\n')
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == (
        f"{path}: line 5: rows.entities: give a non-empty list of entity names"
    )


def test_a_key_the_file_does_not_spell_out_is_on_line_unknown(tmp_path: Path) -> None:
    # the rule comes from the built-in policy this one extends: no line of this file holds it
    path = write(tmp_path, '[policy]\nname = "x"\nextends = "portability"\n'
                           '[classes]\nidentifier = {action = "generalize"}\n')
    with pytest.raises(PolicyError) as info:
        plan_policy(load_policy(path))
    lines = str(info.value).splitlines()
    assert any(line.startswith("  line 5: classes.identifier: ") for line in lines)
    path = write(tmp_path, '[policy]\nextends = "portability"\nname = 3\n')
    with pytest.raises(PolicyError, match=r"line 3: policy.name: give the policy a name"):
        load_policy(path)


def test_a_valid_file_with_subtables_still_loads(tmp_path: Path) -> None:
    path = write(tmp_path, """\
[policy]
name = "fine"
[classes]
identifier = "hash"
[fields."clients.email"]
action = "mask"
style = "email"
[rows.status]
invoices = ["paid"]
""")
    policy = load_policy(path)
    assert policy.field_rules()["clients.email"].opts == {"style": "email"}
    assert plan_policy(policy)["clients"].actions()["email"] == "mask style=email"
    bad = write(tmp_path, path.read_text().replace('"email"\n', '"wild"\n'), "bad.toml")
    with pytest.raises(PolicyError, match=r"line 7: fields.'clients.email'.style: 'wild'"):
        load_policy(bad)


def test_cli_names_every_mistake_and_keeps_exit_code_10(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cscor_tools.cli import cli

    path = write(tmp_path, THREE_SHAPE_MISTAKES)
    result = CliRunner().invoke(cli, ["export", "--show-policy", str(path)])
    assert result.exit_code == 10
    assert "3 mistakes" in result.output
    assert all(f"line {n}:" in result.output for n in (3, 9, 10))
    assert "Traceback" not in result.output
