"""Every mistake in a policy or mapping file is named with its file and line, through the
operation that reads it (an export, an import), never as a traceback.

Not yet held (reported to the lead): several mistakes in one policy file are reported one
at a time (the first the checks meet), not all at once as a mapping file's are."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscor_tools.errors import CscorError
from cscor_tools.export import export_bundle
from cscor_tools.imports import import_file
from cscor_tools.store import open_store
from tests.reliability.conftest import show

POLICIES = {
    "unknown action": ('[policy]\nname = "p"\n[classes]\nidentifier = "shred"\n', 4),
    "unknown section": ('[policy]\nname = "p"\n[colors]\nx = 1\n', 3),
    "unknown field": ('[policy]\nname = "p"\n[fields]\n"clients.nope" = "drop"\n', 4),
    "action the type refuses": ('[policy]\nname = "p"\n\n[fields]\n'
                                '"clients.email" = { action = "generalize", to = "month" }\n', 5),
    "not TOML": ('[policy]\nname = "p\n', 2),
}
MAPPINGS = {
    "unknown key": ('entity = "clients"\nkeyy = ["email"]\n', 2),
    "unknown entity": ('source = "crm"\nentity = "clientz"\n', 2),
    "bad formats": ('entity = "invoices"\n[fields.issued_at]\nformats = 3\n', 3),
    "not TOML": ('entity = "clients"\n[columns\n', 2),
    "unknown field": ('entity = "clients"\n[columns]\n"E-mail" = "emale"\n', 3),
}


@pytest.mark.parametrize("case", list(POLICIES))
def test_a_policy_mistake_is_named_with_its_line(tmp_path: Path, case: str) -> None:
    text, line = POLICIES[case]
    policy = tmp_path / "policy.toml"
    policy.write_text(text)
    with open_store(tmp_path / "w.db") as store, pytest.raises(CscorError) as err:
        export_bundle(store, tmp_path / "out", policy=policy)
    show({case: str(err.value)})
    assert str(policy.name) in str(err.value) and f"line {line}" in str(err.value)


@pytest.mark.parametrize("case", list(MAPPINGS))
def test_a_mapping_mistake_is_named_with_its_line(tmp_path: Path, case: str) -> None:
    text, line = MAPPINGS[case]
    mapping = tmp_path / "map.toml"
    mapping.write_text(text)
    data = tmp_path / "clients.csv"
    data.write_text("email,name\nann@example.com,Ann\n")
    with open_store(tmp_path / "w.db") as store, pytest.raises(CscorError) as err:
        import_file(data, store=store, mapping=mapping)
    show({case: str(err.value)})
    assert str(mapping.name) in str(err.value) and f"line {line}" in str(err.value)
