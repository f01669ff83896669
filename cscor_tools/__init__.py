"""cscor_tools: sync, import and export Customerscor workspace data — the Python API.

Everything the ``cscor`` command does is a call here::

    import cscor_tools as cs

    ws = "workspace.db"
    cs.init_workspace(ws)                              # cscor init
    cs.import_file("customers.csv", workspace=ws)      # cscor import customers.csv
    result = cs.sync_connector("stripe", workspace=ws) # cscor sync stripe
    print(result.status, result.rows())
    cs.export_bundle(ws, "bundle/")                    # cscor export --out bundle/
    cs.workspace_status(ws)                            # cscor status
    cs.available_connectors()                          # cscor connectors
    cs.builtin_policies()                              # cscor export --list-policies
    cs.schema_markdown()                               # cscor schema
    cs.run_demo("cscor-demo")                          # cscor demo
    who = cs.Subject.of("ann@example.com")
    with cs.open_workspace(ws) as store:
        cs.export_subject(store, who, "ann/")          # cscor subject export
        cs.erase_subject(store, who)                   # cscor subject erase
        cs.apply_retention(store)                      # cscor retention apply
        cs.audit_log(store)                            # cscor audit
    with cs.Sandbox(seed=1) as sb:                     # cscor sandbox serve
        sb.base_url("stripe")

Export, import, policies, the demo and the sandbox pull in Arrow and the sandbox's data
generator, so they are imported on first use: ``import cscor_tools`` stays quick for a script
that only syncs, and the names resolve the same either way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cscor_tools._version import __version__
from cscor_tools.config import Config, load_config
from cscor_tools.connectors import (
    Connector,
    ConnectorSettings,
    Page,
    Secret,
    Slice,
    Stream,
    available_connectors,
    load_connector,
    register_connector,
)
from cscor_tools.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    CscorError,
    ExitCode,
    FatalProviderError,
    MissingCredentialError,
    NotFoundError,
    PartialFailureError,
    PermissionDeniedError,
    PolicyError,
    ProviderError,
    RateLimitedError,
    RejectedInputError,
    StoreError,
    TransientError,
    UnavailableError,
    WorkspaceLockedError,
)
from cscor_tools.records import ChangeSet, Tombstone
from cscor_tools.schema import ENTITIES, SCHEMA_VERSION, Privacy, make_id
from cscor_tools.schema_render import (
    arrow_schema,
    json_schema,
    json_schemas,
    table_schema,
    table_schemas,
)
from cscor_tools.schema_render import markdown as schema_markdown
from cscor_tools.store import Store, open_store
from cscor_tools.store.ddl import render_sql
from cscor_tools.sync import StreamResult, SyncResult, sync
from cscor_tools.workspace import (
    SyncOutcome,
    WorkspaceInfo,
    WorkspaceStatus,
    init_workspace,
    open_workspace,
    sync_connector,
    sync_many,
    workspace_status,
)

if TYPE_CHECKING:
    from cscor_tools.demo import DemoResult, run_demo
    from cscor_tools.export import ExportedFile, ExportResult, export_bundle
    from cscor_tools.export.dataset import export_dataset
    from cscor_tools.imports import (
        ColumnMapping,
        FileResult,
        ImportProgress,
        ImportResult,
        ImportStoppedError,
        import_file,
        load_mapping,
    )
    from cscor_tools.minimize import Policy, builtin_policies, load_policy, plan_policy
    from cscor_tools.policies import BUILTIN as BUILTIN_POLICIES
    from cscor_tools.privacy import (
        AuditRecord,
        CorrectionResult,
        ErasureResult,
        KeyRotation,
        RetentionPolicy,
        RetentionResult,
        Subject,
        SubjectExport,
        apply_retention,
        audit_log,
        correct_subject,
        erase_subject,
        export_subject,
        find_subject,
        load_retention_policy,
        rotate_hash_key,
    )
    from cscor_tools.sandbox import FaultKind, Sandbox, SandboxError
    from cscor_tools.workers import Queue, SyncJob

#: public name -> (module, attribute), imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    "BUILTIN_POLICIES": ("cscor_tools.policies", "BUILTIN"),
    "ColumnMapping": ("cscor_tools.imports", "ColumnMapping"),
    "DemoResult": ("cscor_tools.demo", "DemoResult"),
    "ExportResult": ("cscor_tools.export", "ExportResult"),
    "ExportedFile": ("cscor_tools.export", "ExportedFile"),
    "FaultKind": ("cscor_tools.sandbox", "FaultKind"),
    "FileResult": ("cscor_tools.imports", "FileResult"),
    "ImportProgress": ("cscor_tools.imports", "ImportProgress"),
    "ImportResult": ("cscor_tools.imports", "ImportResult"),
    "ImportStoppedError": ("cscor_tools.imports", "ImportStoppedError"),
    "Policy": ("cscor_tools.minimize", "Policy"),
    "Queue": ("cscor_tools.workers", "Queue"),
    "SyncJob": ("cscor_tools.workers", "SyncJob"),
    "export_dataset": ("cscor_tools.export.dataset", "export_dataset"),
    "Sandbox": ("cscor_tools.sandbox", "Sandbox"),
    "SandboxError": ("cscor_tools.sandbox", "SandboxError"),
    "builtin_policies": ("cscor_tools.minimize", "builtin_policies"),
    "export_bundle": ("cscor_tools.export", "export_bundle"),
    "import_file": ("cscor_tools.imports", "import_file"),
    "load_mapping": ("cscor_tools.imports", "load_mapping"),
    "load_policy": ("cscor_tools.minimize", "load_policy"),
    "plan_policy": ("cscor_tools.minimize", "plan_policy"),
    "run_demo": ("cscor_tools.demo", "run_demo"),
    **{
        name: ("cscor_tools.privacy", name)
        for name in (
            "AuditRecord", "CorrectionResult", "ErasureResult", "KeyRotation",
            "RetentionPolicy", "RetentionResult", "Subject", "SubjectExport",
            "apply_retention", "audit_log", "correct_subject", "erase_subject",
            "export_subject", "find_subject", "load_retention_policy", "rotate_hash_key",
        )
    },
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "BUILTIN_POLICIES",
    "ENTITIES",
    "SCHEMA_VERSION",
    "AuditRecord",
    "AuthenticationError",
    "BadRequestError",
    "ChangeSet",
    "ColumnMapping",
    "Config",
    "ConfigError",
    "Connector",
    "ConnectorSettings",
    "CorrectionResult",
    "CscorError",
    "DemoResult",
    "ErasureResult",
    "ExitCode",
    "ExportResult",
    "ExportedFile",
    "FatalProviderError",
    "FaultKind",
    "FileResult",
    "ImportProgress",
    "ImportResult",
    "ImportStoppedError",
    "KeyRotation",
    "MissingCredentialError",
    "NotFoundError",
    "Page",
    "PartialFailureError",
    "PermissionDeniedError",
    "Policy",
    "PolicyError",
    "Privacy",
    "ProviderError",
    "Queue",
    "RateLimitedError",
    "RejectedInputError",
    "RetentionPolicy",
    "RetentionResult",
    "Sandbox",
    "SandboxError",
    "Secret",
    "Slice",
    "Store",
    "StoreError",
    "Stream",
    "StreamResult",
    "Subject",
    "SubjectExport",
    "SyncJob",
    "SyncOutcome",
    "SyncResult",
    "Tombstone",
    "TransientError",
    "UnavailableError",
    "WorkspaceInfo",
    "WorkspaceLockedError",
    "WorkspaceStatus",
    "__version__",
    "apply_retention",
    "arrow_schema",
    "audit_log",
    "available_connectors",
    "builtin_policies",
    "correct_subject",
    "erase_subject",
    "export_bundle",
    "export_dataset",
    "export_subject",
    "find_subject",
    "import_file",
    "init_workspace",
    "json_schema",
    "json_schemas",
    "load_config",
    "load_connector",
    "load_mapping",
    "load_policy",
    "load_retention_policy",
    "make_id",
    "open_store",
    "open_workspace",
    "plan_policy",
    "register_connector",
    "render_sql",
    "rotate_hash_key",
    "run_demo",
    "schema_markdown",
    "sync",
    "sync_connector",
    "sync_many",
    "table_schema",
    "table_schemas",
    "workspace_status",
]
