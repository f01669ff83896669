"""Finding a key's line in TOML text: the right line, or none, never a wrong one."""

from __future__ import annotations

import tomllib

from hypothesis import given
from hypothesis import strategies as st

from cscor_tools.toml_lines import key_line, line_label

NAMES = st.text(alphabet="abcdefgh.*_- é", min_size=1, max_size=8)


def spell(name: str, style: int) -> str:
    if style == 0 and all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        return name
    return f"'{name}'" if style == 1 else '"' + name.replace('"', '\\"') + '"'


@given(
    tables=st.dictionaries(
        st.sampled_from(["policy", "classes", "fields", "rows"]),
        st.dictionaries(NAMES, st.tuples(st.integers(0, 2), st.booleans()), max_size=4),
        max_size=4,
    ),
    decoy=st.booleans(),
)
def test_each_key_is_found_on_its_own_line_or_on_none(
    tables: dict[str, dict[str, tuple[int, bool]]], decoy: bool
) -> None:
    lines: list[str] = []
    where: dict[tuple[str, str], int] = {}
    for table, keys in tables.items():
        lines.append(f"[{table}]")
        if decoy:  # text that looks like keys and tables, inside a multi-line string
            lines += ['note = """', "[fields]", *(f"{spell(k, 2)} = 1" for k in keys), '"""']
        for key, (style, inline) in keys.items():
            value = '{action = "mask", style = "email"}' if inline else '"drop"'
            lines.append(f"{spell(key, style)} = {value}")
            where[(table, key)] = len(lines)
    text = "\n".join(lines) + "\n"
    parsed = tomllib.loads(text)  # the generated text is TOML, and says what we think it says
    for (table, key), line in where.items():
        assert key in parsed[table]
        assert key_line(text, (table, key)) == line
        if parsed[table][key] != "drop":
            assert key_line(text, (table, key, "style")) == line
        assert key_line(text, (table, key + "x")) in (None, where.get((table, key + "x")))


def test_subtables_dotted_keys_and_unknown_paths() -> None:
    text = (
        'name = "top"\n'
        "[fields.\"clients.email\"]\n"
        'action = "mask"\n'
        "  style = 'wild' # a comment\n"
        "[rows]\n"
        "status.invoices = ['paid']\n"
        "[[fields.list]]\n"
        'action = "drop"\n'
    )
    assert key_line(text, ("name",)) == 1
    assert key_line(text, ("fields", "clients.email")) == 2
    assert key_line(text, ("fields", "clients.email", "style")) == 4
    assert key_line(text, ("rows",)) == 5
    assert key_line(text, ("rows", "status", "invoices")) == 6
    assert line_label(text, ("fields", "list")) == "line ?"  # arrays of tables are not read
    assert line_label(text, ("classes", "identifier")) == "line ?"
    assert line_label(None, ("name",)) == "line ?"
