"""The layers point one way: a walk over every import of the package holds them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cscor_tools"

# A module may import modules of its own layer or of lower layers only.
LAYERS = [
    {"cli"},
    {"workspace", "demo"},
    {"sync", "imports", "export", "privacy"},
    {"connectors", "store", "formats", "minimize", "policies", "sandbox"},
    {"schema", "schema_render", "errors", "config", "records", "logs", "gc_tuning", "_version"},
]
# Connectors never touch the store or formats; formats never touch connectors.
FORBIDDEN = {
    "connectors": {"store", "formats", "export", "imports", "minimize"},
    "formats": {"connectors", "store", "sync"},
    "store": {"connectors", "formats", "sync"},
    "minimize": {"connectors", "store", "sync"},
    "sandbox": {"connectors", "store", "sync", "export", "imports"},
}


def layer_of(top: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    return None


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "cscor_tools" and len(parts) > 1:
                found.add(parts[1])
    return found


def top_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def test_layers_point_one_way() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue  # the public API re-exports everything
        me = top_of(path)
        my_layer = layer_of(me)
        assert my_layer is not None, f"{me} is in no layer: add it to LAYERS"
        for other in imports_of(path):
            if other == me:
                continue
            theirs = layer_of(other)
            assert theirs is not None, f"{other} is in no layer: add it to LAYERS"
            if theirs < my_layer:
                problems.append(f"{path.relative_to(PACKAGE)} imports {other} (a higher layer)")
            if other in FORBIDDEN.get(me, set()):
                problems.append(f"{path.relative_to(PACKAGE)} imports {other} (forbidden)")
    assert not problems, "\n".join(problems)


def test_nothing_imports_the_cli() -> None:
    for path in PACKAGE.rglob("*.py"):
        if top_of(path) != "cli":
            assert "cli" not in imports_of(path), path
