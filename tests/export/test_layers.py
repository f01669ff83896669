"""The export side keeps its layers: formats and minimize know nothing of stores or each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cscor_tools

PACKAGE = Path(cscor_tools.__file__).parent

#: module (or package) -> the cscor_tools modules it must never import
FORBIDDEN = {
    "formats": ("store", "minimize", "export", "connectors", "cli", "sync", "policies"),
    "minimize": ("store", "formats", "export", "connectors", "cli", "sync"),
    "policies": ("store", "formats", "export", "connectors", "cli", "minimize"),
    "store/arrow.py": ("minimize", "formats", "export", "connectors", "cli"),
    "export": ("connectors", "cli", "sync"),
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n.split(".")[1] for n in names if n.startswith("cscor_tools.") and "." in n}


@pytest.mark.parametrize("part", list(FORBIDDEN))
def test_layers_point_one_way(part: str) -> None:
    target = PACKAGE / part
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    assert files
    for file in files:
        bad = imported(file) & set(FORBIDDEN[part])
        assert not bad, f"{file.relative_to(PACKAGE)} imports {sorted(bad)}"
