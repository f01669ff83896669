"""Applying an entity's plan to Arrow record batches: the minimizer an export runs per batch."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cscor_tools.errors import PolicyError
from cscor_tools.minimize import actions
from cscor_tools.minimize.plan import EntityPlan, FieldPlan
from cscor_tools.minimize.policy import Action
from cscor_tools.minimize.pseudonyms import Pseudonymizer
from cscor_tools.schema import FieldType


class Minimizer:
    """Turns store batches of one entity into the batches its policy lets out."""

    def __init__(self, plan: EntityPlan, pseudonymizer: Pseudonymizer | None = None) -> None:
        if plan.needs_key and pseudonymizer is None:
            raise PolicyError(f"{plan.entity.name}: the policy hashes fields but has no key")
        self.plan = plan
        self.schema = plan.arrow_schema()
        self._pseudonymizer = pseudonymizer

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The minimized batch; its columns are exactly the plan's output, in schema order."""
        arrays = [self._column(fp, batch.column(fp.field.name)) for fp in self.plan.output]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _column(self, fp: FieldPlan, arr: pa.Array) -> pa.Array:
        if fp.subfields:
            return self._struct(fp, arr)
        action, opts = fp.action, fp.opts
        if action is Action.KEEP:
            return arr
        if action is Action.HASH:
            assert self._pseudonymizer is not None
            return actions.hash_array(
                arr,
                self._pseudonymizer,
                email=fp.field.format == "email",
                unique=fp.field.name == "id",
            )
        if action is Action.MASK:
            style = opts.get("style") or _mask_style(fp)
            return actions.mask_array(arr, style, opts.get("keep", 4))
        if action is Action.REDACT:
            return actions.redact_array(arr)
        if action is Action.GENERALIZE:
            if fp.field.type == FieldType.TIMESTAMP:
                return actions.generalize_timestamps(arr, opts.get("to", "month"))
            return actions.generalize_strings(arr, opts.get("to"), opts.get("length"))
        raise PolicyError(f"{fp.path}: {action.value} cannot be applied here")  # dropped fields

    def _struct(self, fp: FieldPlan, arr: pa.Array) -> pa.Array:
        assert isinstance(arr, pa.StructArray)
        children = arr.flatten()  # sliced like the parent, with the parent's nulls applied
        names = [f.name for f in arr.type]
        out_arrays, out_fields = [], []
        for sub in fp.subfields:
            if not sub.kept:
                continue
            out_arrays.append(self._column(sub, children[names.index(sub.field.name)]))
            out_fields.append(pa.field(sub.field.name, sub.arrow_type()))
        return pa.StructArray.from_arrays(out_arrays, fields=out_fields, mask=pc.is_null(arr))


def _mask_style(fp: FieldPlan) -> str:
    """The mask that fits a field by default: by its email format, or a phone by its name."""
    if fp.field.format == "email":
        return "email"
    if "phone" in fp.field.name:
        return "digits"
    return "initial"
