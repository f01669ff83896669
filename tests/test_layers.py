"""The layers point one way: one walk over every import of the package holds them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cscor_tools"

# A module may import modules of its own layer or of lower layers only.
LAYERS = [
    {"cli"},
    {"workspace", "demo"},
    {"sync", "imports", "export", "privacy", "workers"},
    {"connectors", "store", "formats", "minimize", "policies", "sandbox"},
    {
        "schema", "schema_render", "errors", "config", "records", "runs", "logs", "gc_tuning",
        "_version", "toml_lines",
    },
]
# Within a layer, parts that must stay apart: connectors never touch the store or formats;
# formats know bytes, not stores, providers or policies; minimization knows privacy classes only.
FORBIDDEN = {
    "connectors": {"store", "formats", "export", "imports", "minimize"},
    "formats": {"connectors", "store", "sync", "minimize", "export", "policies"},
    "store": {"connectors", "formats", "sync", "minimize", "export"},
    "minimize": {"connectors", "store", "sync", "formats", "export"},
    "policies": {"connectors", "store", "formats", "export", "minimize"},
    "sandbox": {"connectors", "store", "sync", "export", "imports"},
    "export": {"connectors", "sync"},
}


def layer_of(top: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    return None


def imports_of(path: Path) -> set[str]:
    """The top-level cscor_tools modules a file imports, however it spells the import."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "cscor_tools":
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:  # from cscor_tools import logs
                found.update(a.name for a in node.names if _is_module(a.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "cscor_tools" and len(parts) > 1:
                    found.add(parts[1])
    return found


def _is_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def top_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def modules() -> list[Path]:
    # the public API (the package's own __init__) re-exports everything
    return sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


def test_every_layer_names_a_module_that_exists() -> None:
    for name in set().union(*LAYERS) | set(FORBIDDEN):
        assert _is_module(name), f"LAYERS or FORBIDDEN names {name!r}, which does not exist"


def test_every_module_is_in_a_layer() -> None:
    missing = {top_of(p) for p in modules()} - set().union(*LAYERS)
    assert not missing, f"add to LAYERS: {sorted(missing)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_point_one_way(path: Path) -> None:
    me = top_of(path)
    my_layer = layer_of(me)
    assert my_layer is not None
    problems = []
    for other in sorted(imports_of(path) - {me}):
        theirs = layer_of(other)
        assert theirs is not None, f"{other} is in no layer: add it to LAYERS"
        if theirs < my_layer:
            problems.append(f"imports {other} (a higher layer)")
        if other in FORBIDDEN.get(me, set()):
            problems.append(f"imports {other} (forbidden for {me})")
    assert not problems, f"{path.relative_to(PACKAGE)}: " + "; ".join(problems)


def test_nothing_imports_the_cli() -> None:
    for path in modules():
        if top_of(path) != "cli":
            assert "cli" not in imports_of(path), path


def test_the_walk_sees_every_spelling_of_an_import(tmp_path: Path) -> None:
    """The walker itself: a rule it cannot see is no rule."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import cscor_tools.store.base\n"
        "from cscor_tools.connectors import http\n"
        "from cscor_tools import logs, __version__\n"
        "def f():\n    import cscor_tools.export as e\n"
        "from . import sibling\n",
        encoding="utf-8",
    )
    assert imports_of(probe) == {"store", "connectors", "logs", "export"}
