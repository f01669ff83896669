"""The pseudonymization key's life: where it is, its id, and its rotation.

The key (``hash_key`` in the workspace's settings table, or ``CSCOR_HASH_KEY``) makes every
pseudonym of an export (``minimize/pseudonyms.py``). Rotating it replaces the stored key by a
new random one: exports made afterwards carry other pseudonyms and a new ``key_id`` in their
manifest, so bundles made under the old key no longer join with new ones, and whoever held
the old key can no longer recompute new pseudonyms. The old key is not kept anywhere (a kept
key would defeat the rotation); the audit log records both key ids, never a key.

The subject key (``subject_key``) of the deletion log and suppression list is another key and
is never rotated: its hashes cannot be recomputed without the addresses they stand for, so a
new key would forget every erasure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cscor_tools.minimize import HASH_KEY_ENV, HashKey, resolve_hash_key
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql

HASH_KEY = "hash_key"


@dataclass(frozen=True)
class KeyRotation:
    old_key_id: str
    new_key_id: str
    dry_run: bool
    #: set when CSCOR_HASH_KEY is set: exports keep using it until it is changed too
    overridden_by_env: bool

    def as_dict(self) -> dict[str, Any]:
        return {"old_key_id": self.old_key_id, "new_key_id": self.new_key_id,
                "dry_run": self.dry_run, "overridden_by_env": self.overridden_by_env}


def key_info(store: Store, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Where the export key comes from and its id (the id a manifest records)."""
    key = resolve_hash_key(store.get_meta(HASH_KEY), os.environ if env is None else env)
    return {"origin": key.origin, "key_id": key.key_id()}


def rotate_hash_key(
    store: Store,
    *,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> KeyRotation:
    """Replace the workspace's pseudonymization key by a new random one (module docstring)."""
    env = os.environ if env is None else env
    stored = store.get_meta(HASH_KEY)
    old = resolve_hash_key(stored, {})
    new_secret = secrets.token_hex(32)
    new = HashKey(new_secret.encode(), origin="workspace")
    rotation = KeyRotation(old.key_id(), new.key_id(), dry_run, bool(env.get(HASH_KEY_ENV)))
    if not dry_run:
        with store.transaction():
            store.set_meta(HASH_KEY, new_secret)
            sql.log_audit(store, now or datetime.now(UTC), "keys.rotate", None,
                          {"key": HASH_KEY, "old_key_id": rotation.old_key_id,
                           "new_key_id": rotation.new_key_id,
                           "overridden_by_env": rotation.overridden_by_env})
    return rotation
