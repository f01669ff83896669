"""Privacy requests: one person's data across every source, erasure that stays erased,
corrections, retention and the audit log.

``export_subject``, ``erase_subject``, ``correct_subject``, ``apply_retention`` and
``audit_log`` are what ``cscor subject export|erase|correct``, ``cscor retention apply`` and
``cscor audit`` call. The names resolve on first use: the sync engine imports the write guard
of this package, and must not pay for the exporter it never uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cscor_tools.privacy.access import SubjectExport, export_subject
    from cscor_tools.privacy.audit import AuditRecord, audit_log
    from cscor_tools.privacy.correct import CorrectionResult, correct_subject
    from cscor_tools.privacy.erase import ErasureResult, erase_subject
    from cscor_tools.privacy.guard import WriteGuard
    from cscor_tools.privacy.keys import KeyRotation, rotate_hash_key
    from cscor_tools.privacy.match import Matches, find_subject
    from cscor_tools.privacy.retention import (
        RetentionPolicy,
        RetentionResult,
        apply_retention,
        load_retention_policy,
    )
    from cscor_tools.privacy.subject import Subject

_LAZY: dict[str, str] = {
    "AuditRecord": "audit",
    "CorrectionResult": "correct",
    "ErasureResult": "erase",
    "KeyRotation": "keys",
    "Matches": "match",
    "RetentionPolicy": "retention",
    "RetentionResult": "retention",
    "Subject": "subject",
    "SubjectExport": "access",
    "WriteGuard": "guard",
    "apply_retention": "retention",
    "audit_log": "audit",
    "correct_subject": "correct",
    "erase_subject": "erase",
    "export_subject": "access",
    "find_subject": "match",
    "load_retention_policy": "retention",
    "rotate_hash_key": "keys",
}


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AuditRecord",
    "CorrectionResult",
    "ErasureResult",
    "KeyRotation",
    "Matches",
    "RetentionPolicy",
    "RetentionResult",
    "Subject",
    "SubjectExport",
    "WriteGuard",
    "apply_retention",
    "audit_log",
    "correct_subject",
    "erase_subject",
    "export_subject",
    "find_subject",
    "load_retention_policy",
    "rotate_hash_key",
]
