"""Minimization: policies that decide what leaves the workspace, applied to Arrow batches.

``load_policy`` reads a built-in or TOML policy, ``plan_policy`` resolves it against the
schema (one action per field; secrets always dropped), and a ``Minimizer`` applies an entity's
plan to record batches before anything is written.
"""

from __future__ import annotations

from cscor_tools.minimize.plan import EntityPlan, FieldPlan, plan_policy
from cscor_tools.minimize.policy import Action, Policy, RowFilter, Rule, load_policy, parse_policy
from cscor_tools.minimize.pseudonyms import (
    HASH_KEY_ENV,
    HashKey,
    Pseudonymizer,
    resolve_hash_key,
)
from cscor_tools.minimize.transform import Minimizer
from cscor_tools.policies import BUILTIN

__all__ = [
    "HASH_KEY_ENV",
    "Action",
    "EntityPlan",
    "FieldPlan",
    "HashKey",
    "Minimizer",
    "Policy",
    "Pseudonymizer",
    "RowFilter",
    "Rule",
    "builtin_policies",
    "load_policy",
    "parse_policy",
    "plan_policy",
    "resolve_hash_key",
]


def builtin_policies() -> dict[str, Policy]:
    """Every built-in policy by name."""
    return {name: load_policy(name) for name in BUILTIN}
