"""What a provider record must look like where a normalizer reads it: declared, then checked.

A normalizer is a plain function of one provider record, and it trusts the JSON types of the
fields it reads. A provider that breaks that trust (a ``created`` that is a string, a
``created_at`` that is no time, a required id that is null) must fail the stream with an
error naming the provider, the stream, the path, the record and the field — never end as an
internal error, and never store a ``None`` where the provider sent nonsense. So each kind of
record declares its :class:`Shape`: the fields its normalizer reads, each with the JSON types
it accepts, whether it must be present, whether it may be null, and for text in a format
(a time) the parser it must pass. The shapes follow the providers' published schemas (the
OpenAPI descriptions of Stripe, Resend and Slack); fields a provider adds that we do not read
are not checked.

Why declared shapes, and not catching what ``normalize`` raises and calling it the provider's
fault: a ``KeyError`` or ``TypeError`` from a normalizer is as likely our own bug as the
provider's, and relabelling it would hide the bug behind a message blaming the provider (and
would still store ``None`` where a normalizer quietly tolerates a wrong type). A shape check
raises only :class:`FieldError`, and only for the provider's data; the kit
(:func:`~cscor_tools.connectors.base.page_changes`) turns that one exception into an
:class:`~cscor_tools.errors.UnexpectedFieldError` naming where it happened, and lets any other
exception through as the bug it is. The check runs before any row of the page is handed on,
so a page with one bad record stores nothing.

A stream whose records are all of one kind declares ``shape = Shape(...)`` and the kit checks
every record; a normalizer that reads several kinds (Stripe's objects by their ``object``)
calls ``SHAPE.check(record)`` for the kind it reads. Where reading itself uses a field before
any row is made (a ``created`` to plan Stripe's windows, a ``ts`` to order and resume Slack's
history), the stream checks the records as they arrive with
:func:`~cscor_tools.connectors.base.check_records`, named the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_ABSENT = object()

#: how each JSON type is named in messages
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
          dict: "an object", list: "an array", type(None): "null"}


class FieldError(Exception):
    """A provider field that is not what its shape declares: ``field`` is its dotted path
    within the record (``lines.data[2].period.start``), ``reason`` what is wrong with it.

    Raised only by shape checks; the connector kit names the provider, stream, path and
    record around it (see the module docstring)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field {field!r} {reason}")
        self.field = field
        self.reason = reason

    def within(self, prefix: str) -> FieldError:
        """The same error, its field seen from an enclosing object (``data.object``)."""
        return FieldError(f"{prefix}.{self.field}", self.reason)


@dataclass(frozen=True)
class Field:
    """One field of a shape: the JSON types it may have and what else it must satisfy."""

    #: accepted JSON types, compared exactly (a boolean is no integer here, as in JSON)
    types: tuple[type, ...]
    #: the field must be present
    required: bool = False
    #: the field may be null
    nullable: bool = True
    #: for an object: the shape it must have
    shape: Shape | None = None
    #: for an array: what each item must be
    items: Field | None = None
    #: for a value in a format (text, a number): a parser that raises ValueError on a value
    #: not in the format
    parse: Callable[[Any], object] | None = None
    #: what the format is called, for messages ("a time")
    format: str = ""
    #: the only values the field may have, where the provider names a fixed set
    values: frozenset[Any] | None = None
    #: nothing to check beyond the type (set from the above)
    simple: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "simple", self.shape is None and self.items is None
                           and self.parse is None and self.values is None)

    def check(self, value: Any, name: str) -> None:
        if value is None:
            if not self.nullable:
                raise FieldError(name, "is null")
            return
        kind = type(value)
        if kind not in self.types:
            expected = " or ".join(_NAMES.get(t, t.__name__) for t in self.types)
            raise FieldError(name, f"is {_NAMES.get(kind, kind.__name__)}, not {expected}")
        if self.values is not None and value not in self.values:
            raise FieldError(name, f"is {_clip(value)}, not one of "
                             f"{', '.join(map(repr, sorted(self.values)))}")
        if kind is dict and self.shape is not None:
            self.shape.check(value, prefix=f"{name}.")
        elif kind is list and self.items is not None:
            for i, item in enumerate(value):
                self.items.check(item, f"{name}[{i}]")
        elif self.parse is not None:
            try:
                self.parse(value)
            except ValueError:
                raise FieldError(name, f"is {_clip(value)}, not {self.format}") from None


@dataclass(frozen=True)
class Shape:
    """The fields of one kind of provider record that its normalizer reads."""

    fields: Mapping[str, Field]
    _items: tuple[tuple[str, Field], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_items", tuple(self.fields.items()))

    def check(self, record: Mapping[str, Any], *, prefix: str = "") -> None:
        """Raise FieldError for the first field that is not as declared."""
        get = record.get
        for name, spec in self._items:
            value = get(name, _ABSENT)
            if value is _ABSENT:
                if spec.required:
                    raise FieldError(prefix + name, "is missing")
            # the common case, a plain field of the right type, decided here: this runs for
            # every field of every record (benchmarks/stripe_sync.py measures the whole)
            elif not (spec.simple and type(value) in spec.types):
                spec.check(value, prefix + name)

    def extend(self, **fields: Field) -> Shape:
        """This shape with more (or redeclared) fields."""
        return Shape({**self.fields, **fields})


# -- the field kinds every provider uses -----------------------------------------------------

def text(*, required: bool = False, nullable: bool = True) -> Field:
    return Field((str,), required=required, nullable=nullable)


def integer(*, required: bool = False, nullable: bool = True) -> Field:
    return Field((int,), required=required, nullable=nullable)


def number(*, required: bool = False, nullable: bool = True) -> Field:
    return Field((int, float), required=required, nullable=nullable)


def boolean(*, required: bool = False, nullable: bool = True) -> Field:
    return Field((bool,), required=required, nullable=nullable)


def obj(shape: Shape | None = None, *, required: bool = False, nullable: bool = True) -> Field:
    return Field((dict,), required=required, nullable=nullable, shape=shape)


def array(items: Field | None = None, *, required: bool = False,
          nullable: bool = True) -> Field:
    return Field((list,), required=required, nullable=nullable, items=items)


def formatted(parse: Callable[[Any], object], what: str, *, required: bool = False,
              nullable: bool = True) -> Field:
    """Text that must parse (``parse`` raises ValueError when it does not)."""
    return Field((str,), required=required, nullable=nullable, parse=parse, format=what)


#: the latest moment a time may name (9999-12-31T23:59:59Z): later ones are no times
LAST_SECOND = 253_402_300_799


def _unix_seconds(value: float) -> float:
    if not 0 <= value <= LAST_SECOND:
        raise ValueError(f"{value} is out of range")
    return value


def unix_time(*, required: bool = False, nullable: bool = True,
              fractional: bool = False) -> Field:
    """A time as whole Unix seconds (or, ``fractional``, any number of them: Slack's spec
    types a member's ``updated`` as a number), between 1970 and the year 9999."""
    return Field((int, float) if fractional else (int,), required=required, nullable=nullable,
                 parse=_unix_seconds, format="a time in Unix seconds")


def one_of(*values: str, required: bool = False, nullable: bool = True) -> Field:
    """Text that must be one of ``values``."""
    return Field((str,), required=required, nullable=nullable, values=frozenset(values))


def _clip(value: Any) -> str:
    """A value for a message: never a whole page of text."""
    shown = repr(value)
    return shown if len(shown) <= 42 else shown[:40] + "…"


#: a record's id: present, a non-null string
ID = text(required=True, nullable=False)
