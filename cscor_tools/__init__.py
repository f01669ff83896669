"""cscor_tools: sync, import and export Customerscor workspace data — the Python API.

Everything the ``cscor`` command does is a call here::

    import cscor_tools as cs

    cs.init_workspace("workspace.db")
    result = cs.sync_connector("stripe", workspace="workspace.db")
    print(result.status, result.rows())
"""

from __future__ import annotations

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
    ConfigError,
    CscorError,
    ExitCode,
    MissingCredentialError,
    PolicyError,
    ProviderError,
    RejectedInputError,
    StoreError,
    TransientError,
    WorkspaceLockedError,
)
from cscor_tools.records import ChangeSet, Tombstone
from cscor_tools.schema import ENTITIES, SCHEMA_VERSION, Privacy, make_id
from cscor_tools.store import Store, open_store
from cscor_tools.sync import StreamResult, SyncResult, sync
from cscor_tools.workspace import (
    init_workspace,
    open_workspace,
    sync_connector,
    sync_many,
    workspace_status,
)

__all__ = [
    "ENTITIES",
    "SCHEMA_VERSION",
    "AuthenticationError",
    "ChangeSet",
    "Config",
    "ConfigError",
    "Connector",
    "ConnectorSettings",
    "CscorError",
    "ExitCode",
    "MissingCredentialError",
    "Page",
    "PolicyError",
    "Privacy",
    "ProviderError",
    "RejectedInputError",
    "Secret",
    "Slice",
    "Store",
    "StoreError",
    "Stream",
    "StreamResult",
    "SyncResult",
    "Tombstone",
    "TransientError",
    "WorkspaceLockedError",
    "__version__",
    "available_connectors",
    "init_workspace",
    "load_config",
    "load_connector",
    "make_id",
    "open_store",
    "open_workspace",
    "register_connector",
    "sync",
    "sync_connector",
    "sync_many",
    "workspace_status",
]
