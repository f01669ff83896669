"""Row plans: how one file's columns become workspace rows, compiled once per file.

The plan resolves every heading (mapping file, then field names, then aliases), decides the
natural key, and precompiles one converter per column. ``RowBuilder.build`` then turns the
cells of one record into a validated row with its provenance, or raises RowRejected naming
the field and the reason. Foreign keys are left as the file wrote them: resolving them needs
the store, which is the applier's business (``apply.py``).

Rules worth knowing (documented for users in the CLI help and the README of imports):

* A heading that maps to a field already mapped by an earlier column is a *duplicate*: the
  first non-empty value is used, and a row whose duplicate columns disagree is rejected.
* Columns with an empty heading are ignored; if one of them holds data, a note says so.
* A plain file's rows get ``source`` (default "import") and ``source_id`` from its id column,
  or from the natural key (email for clients and contacts, number for invoices, or the
  mapping's ``key``); the workspace id is always derived: ``make_id(entity, source, source_id)``.
* A bundle file (verbatim mode) carries its own id, source and source_id; an id that does not
  derive from the other two is rejected (a pseudonymized or edited row).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports.aliases import Target, resolve_header
from cscor_tools.imports.codes import fold
from cscor_tools.imports.convert import (
    NUL_REASON,
    CellError,
    Converter,
    ConvertOptions,
    field_converter,
)
from cscor_tools.imports.keys import (
    DEFAULT_KEYS,
    RowRejected,
    check_identity,
    derive_identity,
)
from cscor_tools.imports.mapping import ColumnMapping
from cscor_tools.imports.money import apply_header_currency, scale_row
from cscor_tools.records import Row
from cscor_tools.schema import ENTITIES, Field, FieldType

#: provenance a plain file cannot set: the importer owns it
_BOOKKEEPING = frozenset({"deleted", "deleted_at", "deleted_reason", "synced_at",
                          "source_version"})
_PROVENANCE = frozenset({"id", "source", "source_id"})


@dataclass
class ColumnReport:
    """What a plan made of a file's header, reported once per file."""

    mapped: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key: str = ""


@dataclass(frozen=True)
class ColumnPlan:
    """Which column becomes which field, and how (see ``RowBuilder.column_plan``)."""

    #: (field, column index, field definition, converter) of plain text columns
    texts: list[tuple[str, int, Field, Converter]]
    #: (field, column index, field definition, converter) of every other one-column field
    singles: list[tuple[str, int, Field, Converter]]
    #: (struct field, [(part, column index, part definition, converter)])
    structs: list[tuple[str, list[tuple[str, int, Field, Converter]]]]
    #: duplicate columns or whole-object columns: built row by row
    row_only: bool
    #: amounts in major units, scaled by each row's currency into minor units
    money: list[str]
    #: the currency a heading names ("Amount (EUR)"), filling an empty currency
    header_currency: str | None
    unnamed: list[int]
    defaults: dict[str, Any]
    required: list[str]
    key_fields: tuple[str, ...]
    base: dict[str, Any]


@dataclass(frozen=True)
class PlanOptions:
    """Everything about a file the plan needs besides its header."""

    entity: str
    source: str
    synced_at: datetime
    file: str
    verbatim: bool = False
    blank_is_null: bool = True
    #: columns appear as records go (JSON): a missing key column is a row problem, not a
    #: file problem
    dynamic: bool = False
    #: the file is a CSV written by our own exporter (formula-guarded text cells)
    unguard_formulas: bool = False


class RowBuilder:
    """Compiled plan of one file; ``build(cells)`` is the per-record hot path."""

    def __init__(self, columns: Sequence[str], mapping: ColumnMapping, opts: PlanOptions) -> None:
        self.entity = ENTITIES[opts.entity]
        self.mapping = mapping
        self.opts = opts
        self.convert_options = ConvertOptions(
            verbatim=opts.verbatim,
            blank_is_null=opts.blank_is_null,
            timezone=ZoneInfo(mapping.timezone),
            date_formats=mapping.date_formats,
            decimal=mapping.decimal,
            list_separator=mapping.list_separator,
            unguard_formulas=opts.verbatim and opts.unguard_formulas,
        )
        self._lenient = not opts.verbatim
        self.report = ColumnReport()
        #: field → the entity it references, for the fields this file sets
        self.references: dict[str, str] = {}
        self._unnamed_with_data: set[int] = set()
        self._check_mapping_names()
        self._defaults = self._compile_constants()
        self.compile(list(columns))

    # -- compiling ------------------------------------------------------------------------

    def _fail(self, reason: str, column: str | None = None) -> RejectedInputError:
        return RejectedInputError(reason, file=self.opts.file, field=column)

    def _target_of(self, heading: str) -> Target | str | None:
        """A Target, None for unknown, or a string saying why the column is ignored."""
        folded = fold(heading)
        if not folded:
            return "unnamed column"
        if folded in self.mapping.ignore:
            return "ignored by the mapping"
        if folded in self.mapping.columns:
            spec = self.mapping.columns[folded]
            if not spec:
                return "ignored by the mapping"
            return self._parse_spec(spec, f"columns.{heading}")
        if self.opts.verbatim:
            return Target(heading) if self.entity.has_field(heading) else None
        return resolve_header(self.entity.name, heading)

    def _check_mapping_names(self) -> None:
        """Every field the mapping names must exist in the entity: all such mistakes at once,
        each with its line (the file's own checks ran when it was read)."""
        m, ent = self.mapping.mistakes(), self.entity
        named = [(("columns", self.mapping.headings.get(h, h)), spec)
                 for h, spec in self.mapping.columns.items() if spec]
        named += [(("constants", name), name) for name in self.mapping.constants]
        for path, spec in named:
            name, _, part = spec.partition(".")
            if not ent.has_field(name):
                m.add(path, f"{ent.name} has no field {name!r}")
            elif part and (ent.field(name).type != FieldType.STRUCT
                           or part not in {s.name for s in ent.field(name).fields}):
                m.add(path, f"{name} has no part {part!r}")
            elif path[0] == "constants" and (part or name in _PROVENANCE | _BOOKKEEPING):
                m.add(path, "constants may set plain fields only")
        for key, names in (("required", self.mapping.required), ("key", self.mapping.key)):
            for name in names:
                if not ent.has_field(name):
                    m.add((key,), f"{ent.name} has no field {name!r}")
        m.raise_if_any()

    def _parse_spec(self, spec: str, where: str) -> Target:
        name, _, sub = spec.partition(".")
        if not self.entity.has_field(name):
            raise RejectedInputError(
                f"{self.entity.name} has no field {name!r}", file=self.mapping.path, field=where
            )
        f = self.entity.field(name)
        if sub:
            if f.type != FieldType.STRUCT or sub not in {s.name for s in f.fields}:
                raise RejectedInputError(f"{name} has no part {sub!r}", file=self.mapping.path,
                                         field=where)
            return Target(name, sub)
        return Target(name)

    def _compile_constants(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.mapping.constants.items():
            target = self._parse_spec(name, f"constants.{name}")
            if target.sub or name in _PROVENANCE | _BOOKKEEPING:
                raise RejectedInputError("constants may set plain fields only",
                                         file=self.mapping.path, field=f"constants.{name}")
            conv = self._converter(target)
            try:
                out[name] = conv(value)
            except CellError as exc:
                raise RejectedInputError(exc.reason, file=self.mapping.path,
                                         field=f"constants.{name}") from None
        return out

    def _converter(self, target: Target) -> Converter:
        f = self.entity.field(target.field)
        if target.sub:
            return field_converter(f.subfield(target.sub), self.convert_options)
        opts = self.mapping.field_options(f.name)
        major = target.major or (
            f.type == FieldType.INTEGER and f.privacy == "financial"
            and self.mapping.money_major(f.name) and not self.opts.verbatim
        )
        return field_converter(f, self.convert_options, formats=opts.formats, major=major)

    def compile(self, columns: list[str]) -> None:
        """(Re)build the plan for ``columns``: once for a CSV header, again when JSON grows."""
        self.columns = list(columns)
        self.width = len(columns)
        report = ColumnReport()
        by_label: dict[str, list[int]] = {}
        targets: dict[str, Target] = {}
        self._unnamed: list[int] = []
        for i, heading in enumerate(columns):
            t = self._target_of(heading)
            if isinstance(t, str):
                if t == "unnamed column":
                    self._unnamed.append(i)
                else:
                    report.ignored.append(heading)
                continue
            if t is None:
                report.unknown.append(heading)
                continue
            if not self.opts.verbatim and t.field in _BOOKKEEPING:
                report.ignored.append(heading)
                continue
            if not self.opts.verbatim and t.field == "id":
                t = Target("source_id")  # a plain file's id is its source id; ours derive
            by_label.setdefault(t.label, []).append(i)
            targets.setdefault(t.label, t)
            report.mapped[heading] = t.label
        self._demote_workspace_id(columns, by_label, report)
        for label, idxs in by_label.items():
            if len(idxs) > 1:
                names = ", ".join(repr(columns[i]) for i in idxs)
                report.notes.append(
                    f"columns {names} all map to {label}: the first non-empty value is used, "
                    "and rows where they disagree are rejected"
                )
        self._plan(columns, by_label, targets, report)
        self.report = report

    def _demote_workspace_id(self, columns: list[str], by_label: dict[str, list[int]],
                             report: ColumnReport) -> None:
        """With an explicit source_id column, an "id" column holds our own derived id."""
        idxs = by_label.get("source_id", [])
        if self.opts.verbatim or len(idxs) < 2:
            return
        explicit = [i for i in idxs if fold(columns[i]) == "source id"]
        if explicit:
            for i in list(idxs):
                if fold(columns[i]) == "id":
                    idxs.remove(i)
                    report.mapped.pop(columns[i], None)
                    report.ignored.append(columns[i])

    def _plan(self, columns: list[str], by_label: dict[str, list[int]],
              targets: dict[str, Target], report: ColumnReport) -> None:
        ent = self.entity
        single: list[tuple[str, int, Converter]] = []
        multi: list[tuple[str, tuple[int, ...], Converter]] = []
        parts: dict[str, list[tuple[str, tuple[int, ...], Converter]]] = {}
        money: list[str] = []
        currencies = {t.currency for t in targets.values() if t.currency}
        if len(currencies) > 1:
            raise self._fail("column headings name different currencies ("
                             + ", ".join(sorted(c.upper() for c in currencies)) + ")")
        self._header_currency = currencies.pop() if currencies else None
        if self._header_currency and not ent.has_field("currency"):
            self._header_currency = None
        for label, idxs in by_label.items():
            t = targets[label]
            conv = self._converter(t)
            f = ent.field(t.field)
            if t.sub:
                parts.setdefault(t.field, []).append((t.sub, tuple(idxs), conv))
                continue
            if f.type == FieldType.STRUCT:
                parts.setdefault(t.field, []).insert(0, ("", tuple(idxs), conv))
                continue
            if len(idxs) == 1:
                single.append((t.field, idxs[0], conv))
            else:
                multi.append((t.field, tuple(idxs), conv))
            if f.references:
                self.references[t.field] = f.references
            if f.type == FieldType.INTEGER and f.privacy == "financial" and (
                t.major or (self.mapping.money_major(f.name) and not self.opts.verbatim)
            ):
                money.append(t.field)
        for name in self._defaults:
            f = ent.field(name)
            if f.references:
                self.references[name] = f.references
            if f.type == FieldType.INTEGER and f.privacy == "financial" \
                    and self.mapping.money_major(name) and name not in money:
                money.append(name)
        self._texts: list[tuple[str, int]] = []
        self._slow: dict[str, Converter] = {}
        if not self.opts.verbatim:
            for fname, idx, conv in list(single):
                f = ent.field(fname)
                if f.type == FieldType.STRING and not f.format and not f.enum:
                    self._texts.append((fname, idx))
                    self._slow[fname] = conv
                    single.remove((fname, idx, conv))
        self._flat_structs: list[tuple[str, list[tuple[str, int, Converter, bool]]]] = []
        for fname, pieces in list(parts.items()):
            if all(sub and len(idxs) == 1 for sub, idxs, _ in pieces):
                struct = ent.field(fname)
                self._flat_structs.append((fname, [
                    (sub, idxs[0], conv, not self.opts.verbatim and _plain_text(struct, sub))
                    for sub, idxs, conv in pieces
                ]))
                del parts[fname]
        self._single, self._multi, self._parts, self._money = single, multi, parts, money
        self._base = self._base_row()
        self._plan_key(by_label, report)
        required = [f.name for f in ent.fields if not f.nullable and f.name not in
                    _PROVENANCE | _BOOKKEEPING] + list(self.mapping.required)
        for name in required:
            if not ent.has_field(name):
                raise RejectedInputError(f"{ent.name} has no field {name!r}",
                                         file=self.mapping.path, field="required")
            if name not in by_label and name not in self._defaults and not self.opts.dynamic:
                raise self._fail(f"no column for the required field {name!r}")
        self._required = required

    def _base_row(self) -> Row:
        if self.opts.verbatim:
            base: Row = {}
            for name in ("deleted", "synced_at"):
                if name not in self.columns:
                    base[name] = False if name == "deleted" else self.opts.synced_at
            return base
        return {"source": self.opts.source, "deleted": False, "synced_at": self.opts.synced_at}

    def _plan_key(self, by_label: dict[str, list[int]], report: ColumnReport) -> None:
        ent = self.entity
        self._key_fields: tuple[str, ...] = ()
        self._missing_key: str | None = None
        if self.opts.verbatim:
            missing = [c for c in ("id", "source", "source_id") if c not in by_label]
            if missing and not self.opts.dynamic:
                raise self._fail(f"a bundle file needs the columns id, source and source_id "
                                 f"(missing: {', '.join(missing)})")
            report.key = "id, source and source_id as exported"
            return
        if "source_id" in by_label:
            heading = self.columns[by_label["source_id"][0]]
            report.key = f"the id column {heading!r} (as source_id)"
            return
        key = self.mapping.key or DEFAULT_KEYS.get(ent.name, ())
        for name in key:
            if not ent.has_field(name):
                raise RejectedInputError(f"{ent.name} has no field {name!r}",
                                         file=self.mapping.path, field="key")
        usable = key and all(k in by_label or k in self._defaults for k in key)
        if usable or (key and self.opts.dynamic):
            self._key_fields = tuple(key)
            report.key = ", ".join(key)
            return
        wanted = f"and no {' + '.join(key)} column " if key else ""
        reason = (f"{ent.name}: the file has no id column {wanted}to match rows on; add an id "
                  "column, or name the key fields in a mapping file (key = [\"...\"])")
        if not self.opts.dynamic:
            raise self._fail(reason)
        self._missing_key = reason  # JSON may still bring the column: judge row by row

    # -- the plan, for building a column at a time (``columnar.py``) --------------------------

    def column_plan(self) -> ColumnPlan:
        """The compiled plan as the columnar builder reads it."""
        ent = self.entity
        return ColumnPlan(
            texts=[(name, idx, ent.field(name), self._slow[name]) for name, idx in self._texts],
            singles=[(name, idx, ent.field(name), conv) for name, idx, conv in self._single],
            structs=[(name, [(sub, idx, ent.field(name).subfield(sub), conv)
                             for sub, idx, conv, _ in pieces])
                     for name, pieces in self._flat_structs],
            row_only=bool(self._multi or self._parts),
            money=list(self._money),
            header_currency=self._header_currency,
            unnamed=list(self._unnamed),
            defaults=dict(self._defaults),
            required=list(self._required),
            key_fields=self._key_fields,
            base=dict(self._base),
        )

    def saw_unnamed_data(self, index: int) -> None:
        self._unnamed_with_data.add(index)

    # -- building -------------------------------------------------------------------------

    @property
    def unnamed_with_data(self) -> list[int]:
        return sorted(self._unnamed_with_data)

    def build(self, cells: list[Any]) -> Row:
        """The workspace row of one record, or RowRejected naming every problem it has.

        The fast path stops at the first problem; only then is the record checked again,
        field by field, so that one rejection names them all (a valid row pays nothing).
        """
        try:
            return self._build(cells)
        except RowRejected as first:
            problems = self._problems(cells)
            if len(problems) < 2:
                raise
            raise RowRejected(None, "; ".join(f"{f}: {r}" if f else r for f, r in problems)) \
                from first

    def _problems(self, cells: list[Any]) -> list[tuple[str | None, str]]:
        """Every (field, reason) wrong with a record, in the order of the plan."""
        problems: list[tuple[str | None, str]] = []
        width = self.width
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        elif any(c is not None and str(c).strip() for c in cells[width:]):
            problems.append((None, f"{len(cells)} values but the header has {width} columns "
                                   "(an unquoted delimiter?)"))

        def check(label: str | None, convert: Callable[[], Any]) -> Any:
            try:
                return convert()
            except CellError as exc:
                problems.append((label, exc.reason))
            except RowRejected as exc:
                problems.append((exc.field, exc.reason))
            return None

        row = self._base.copy()
        for name, idx in self._texts:
            v = cells[idx]
            if v.__class__ is str and "\x00" in v:
                problems.append((name, NUL_REASON))
            elif v is not None:
                row[name] = check(name, partial(self._slow[name], v))
        for name, idx, conv in self._single:
            v = cells[idx]
            if v is not None:
                row[name] = check(name, partial(conv, v))
        for name, idxs, conv in self._multi:
            row[name] = check(name, partial(_first_value, cells, idxs, conv))
        for name, pieces in self._flat_structs:
            value: dict[str, Any] = {}
            for sub, idx, conv, _plain in pieces:
                v = cells[idx]
                if v.__class__ is str and "\x00" in v:
                    problems.append((f"{name}.{sub}", NUL_REASON))
                elif v is not None:
                    value[sub] = check(f"{name}.{sub}", partial(conv, v))
            row[name] = value if any(x is not None for x in value.values()) else None
        if self._parts:
            check(None, lambda: self._assemble(row, cells))
        for fname, value in self._defaults.items():
            if row.get(fname) is None:
                row[fname] = value
        named = {f for f, _ in problems}
        for fname in self._required:
            if row.get(fname) is None and fname not in named:
                problems.append((fname, "required, but empty"))
        return problems

    def _build(self, cells: list[Any]) -> Row:
        width = self.width
        if len(cells) != width:
            if len(cells) < width:
                cells = cells + [None] * (width - len(cells))
            elif any(c is not None and str(c).strip() for c in cells[width:]):
                raise RowRejected(None, f"{len(cells)} values but the header has {width} "
                                        "columns (an unquoted delimiter?)")
        row = self._base.copy()
        name = ""
        try:
            for name, idx in self._texts:
                v = cells[idx]
                # plain text, the commonest cell, without a converter call
                if v.__class__ is str:
                    if "\x00" in v:
                        raise CellError(NUL_REASON)
                    row[name] = v.strip() or None
                else:
                    row[name] = None if v is None else self._slow[name](v)
            for name, idx, conv in self._single:
                v = cells[idx]
                row[name] = None if v is None else conv(v)
            for name, idxs, conv in self._multi:
                row[name] = _first_value(cells, idxs, conv)
        except CellError as exc:
            raise RowRejected(name, exc.reason) from None
        for name, pieces in self._flat_structs:
            value = {}
            for sub, idx, conv, plain in pieces:
                v = cells[idx]
                if plain and v.__class__ is str:
                    if "\x00" in v:
                        raise RowRejected(f"{name}.{sub}", NUL_REASON)
                    value[sub] = v.strip() or None
                    continue
                try:
                    value[sub] = None if v is None else conv(v)
                except CellError as exc:
                    raise RowRejected(f"{name}.{sub}", exc.reason) from None
            row[name] = value
            if self._lenient:  # a lenient struct of empty cells is no struct
                for x in value.values():
                    if x is not None:
                        break
                else:
                    row[name] = None
        if self._parts:
            self._assemble(row, cells)
        for i in self._unnamed:
            v = cells[i]
            if v is not None and str(v).strip():
                self._unnamed_with_data.add(i)
        for fname, value in self._defaults.items():
            if row.get(fname) is None:
                row[fname] = value
        if self._header_currency:
            apply_header_currency(row, self._header_currency)
        if self._money:
            scale_row(row, self._money)
        for fname in self._required:
            if row.get(fname) is None:
                raise RowRejected(fname, "required, but empty")
        if self.opts.verbatim:
            check_identity(row, self.entity)
        else:
            derive_identity(row, self.entity, self.opts.source, self._key_fields,
                            self._missing_key)
        return row

    def _assemble(self, row: Row, cells: list[Any]) -> None:
        """STRUCT fields: a whole-object column first (if any), then its part columns."""
        for fname, pieces in self._parts.items():
            value: dict[str, Any] | None = None
            label = fname
            try:
                for sub, idxs, conv in pieces:
                    label = f"{fname}.{sub}" if sub else fname
                    got = _first_value(cells, idxs, conv)
                    if not sub:
                        value = dict(got) if got else None
                        continue
                    value = {} if value is None else value
                    if got is not None or sub not in value:
                        value[sub] = got
            except CellError as exc:
                raise RowRejected(label, exc.reason) from None
            if value is not None and not self.opts.verbatim and all(
                v is None for v in value.values()
            ):
                value = None
            row[fname] = value


def _first_value(cells: list[Any], idxs: tuple[int, ...], conv: Converter) -> Any:
    found = None
    for i in idxs:
        v = cells[i]
        if v is None:
            continue
        value = conv(v)
        if value is None:
            continue
        if found is None:
            found = value
        elif value != found:
            raise CellError("duplicate columns hold different values")
    return found


def _plain_text(struct: Field, sub: str) -> bool:
    part = struct.subfield(sub)
    return part.type == FieldType.STRING and not part.format and not part.enum
