"""Export bundles as import sources: manifest, checksums, policy, and entity order.

A bundle is a folder or a .zip holding ``manifest.json``, ``datapackage.json`` and one file
(or several parts) per entity. Before anything is imported, every file the manifest lists is
hashed and sized against it; one mismatch, a missing file or a path leaving the bundle
refuses the whole bundle, naming the file. An entry the manifest does not list refuses the
bundle too, named: a file nobody vouches for is never silently passed over (it may be the
data someone meant to import, or something slipped in). The one exception is the readable
summary a subject-access export writes beside the data (``SUMMARY.md``, ``SUMMARY.html``;
see ``privacy/access.py``): known here by name, never read.

Only bundles that still hold the data as stored can be restored: those exported under the
``portability`` policy, or under a policy whose every action is ``keep`` or ``drop`` (dropped
fields are simply not set). A pseudonymized, masked or generalized bundle is refused: its
values are not the owner's data any more, and restoring them would overwrite real rows with
pseudonyms.

A bundle also says which of its foreign keys do not hold inside it
(``foreign_keys_left_out``): rows pointing at tombstones left out of the export, at rows
filtered out, or at rows the source workspace never had. ``Bundle.left_out`` names those
keys, so that the import restores such references as the source held them (see
``references.py``) instead of refusing the rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports.readers import Source
from cscor_tools.schema import ENTITIES, SCHEMA_VERSION

_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
            ".parquet": "parquet"}
_LOSSLESS = {"keep", "drop"}
#: files a bundle may hold beside what its manifest lists: the manifest itself, and the
#: summary of a subject-access export (documentation for the person, not data)
KNOWN_UNLISTED = frozenset({"manifest.json", "SUMMARY.md", "SUMMARY.html"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BundleFile:
    """One entity file of a bundle, verified."""

    entity: str
    path: str  # inside the bundle, POSIX
    format: str
    sha256: str
    bytes: int
    rows: int | None


@dataclass
class Bundle:
    """An opened, verified bundle."""

    location: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    files: list[BundleFile]
    policy: str | None
    schema_version: str | None
    #: (entity, field) of every foreign key the manifest says does not hold in the bundle
    left_out: frozenset[tuple[str, str]] = frozenset()
    _zip: zipfile.ZipFile | None = None
    _prefix: str = ""
    _temp: list[Path] = field(default_factory=list)

    @property
    def formulas_protected(self) -> bool:
        """True when CSV text cells carry the exporter's apostrophe (the default; a bundle
        exported with --no-protect-formulas says false, and its cells are taken as written)."""
        return self.manifest.get("formulas_protected") is not False

    def source(self, item: BundleFile) -> Source:
        """A Source for one file; Parquet inside a zip is extracted to a temp file first."""
        name = f"{self.location}!{item.path}" if self._zip else str(self.location / item.path)
        if self._zip is None:
            path = self.location / item.path
            return Source(name, lambda: path.open("rb"), path, item.bytes)
        zf, member = self._zip, self._prefix + item.path
        if item.format == "parquet":
            fd, tmp = tempfile.mkstemp(suffix=".parquet", prefix="cscor-import-")
            with open(fd, "wb") as out, zf.open(member) as src:
                shutil.copyfileobj(src, out, _CHUNK)
            path = Path(tmp)
            self._temp.append(path)
            return Source(name, lambda: path.open("rb"), path, item.bytes)
        return Source(name, lambda: zf.open(member), None, item.bytes)

    def close(self) -> None:
        for path in self._temp:
            path.unlink(missing_ok=True)
        self._temp.clear()
        if self._zip is not None:
            self._zip.close()


def dependency_order() -> list[str]:
    """Entities with every referenced entity before the entities that reference it."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order or name in path:
            return
        for f in ENTITIES[name].foreign_keys():
            if f.references and f.references != name:
                visit(f.references, (*path, name))
        order.append(name)

    for name in ENTITIES:
        visit(name, ())
    return order


def _refuse(location: Path, reason: str, member: str | None = None) -> RejectedInputError:
    where = f"{location}!{member}" if member and location.suffix == ".zip" else (
        str(location / member) if member else str(location)
    )
    return RejectedInputError(reason, file=where)


def _listed(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, entry) of every file the manifest vouches for, datapackage.json included."""
    files = manifest.get("files")
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(files, dict):
        out = [(str(k), v if isinstance(v, dict) else {}) for k, v in files.items()]
    elif isinstance(files, list):
        for spec in files:
            if isinstance(spec, dict):
                path = spec.get("path") or spec.get("name") or spec.get("file")
                if isinstance(path, str):
                    out.append((path, spec))
    package = manifest.get("datapackage")
    if isinstance(package, dict) and isinstance(package.get("path"), str):
        out.append((package["path"], {**package, "entity": None}))
    return out


def _policy(manifest: dict[str, Any]) -> tuple[str | None, set[str]]:
    """The policy's name and every action it applied (empty when the manifest gives none).

    The manifest records the policy's rules and, per entity, the action each field got
    ("keep", "drop", "hash", "mask (email)", "generalize to month"…): the first word is the
    action.
    """
    policy = manifest.get("policy")
    if isinstance(policy, str):
        return policy, set()
    if not isinstance(policy, dict):
        return None, set()
    actions: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str) and value.strip():
            actions.add(value.split()[0].strip(",;:()").lower())
        elif isinstance(value, dict):
            for key in ("action", "otherwise"):
                add(value.get(key))

    given = policy.get("rules")
    rules: dict[str, Any] = given if isinstance(given, dict) else policy
    add(rules.get("ids"))
    for table in (rules.get("classes"), rules.get("fields"), policy.get("fields")):
        if not isinstance(table, dict):
            continue
        for value in table.values():
            if isinstance(value, dict) and "action" not in value:
                for inner in value.values():  # per entity: path → action
                    add(inner)
            else:
                add(value)
    name = policy.get("name")
    return (name if isinstance(name, str) else None), actions


def check_policy(location: Path, manifest: dict[str, Any]) -> str | None:
    name, actions = _policy(manifest)
    if name == "portability" or (actions and actions <= _LOSSLESS):
        return name
    if name is None:
        raise _refuse(location, "the manifest names no minimization policy, so the bundle "
                                "cannot be shown to hold the data as stored")
    lossy = ", ".join(sorted(actions - _LOSSLESS)) or "unknown transformations"
    raise _refuse(location, f"exported under the {name!r} policy ({lossy}): its values are "
                            "pseudonyms or summaries, not the data itself, and restoring them "
                            "would overwrite real rows. Import a bundle exported with the "
                            "`portability` policy.")


def left_out_keys(manifest: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The foreign keys the manifest lists as not holding in the bundle, as (entity, field).

    Only keys of the schema count, and only when the entry names the entity the schema says
    the field references: anything else in the list is ignored rather than trusted.
    """
    listed = manifest.get("foreign_keys_left_out")
    keys: set[tuple[str, str]] = set()
    for entry in listed if isinstance(listed, list) else ():
        spec = entry.get("field") if isinstance(entry, dict) else None
        name, _, fname = spec.partition(".") if isinstance(spec, str) else ("", "", "")
        ent = ENTITIES.get(name)
        if ent is None or not ent.has_field(fname):
            continue
        target = ent.field(fname).references
        if target is not None and entry.get("references") == target:
            keys.add((name, fname))
    return frozenset(keys)


def _check_version(location: Path, manifest: dict[str, Any]) -> str | None:
    version = manifest.get("schema_version")
    if version is None:
        return None
    ours = SCHEMA_VERSION.split(".", 1)[0]
    if str(version).split(".", 1)[0] != ours:
        raise _refuse(location, f"written for workspace schema {version}; this toolkit reads "
                                f"schema {SCHEMA_VERSION} (major versions must match)")
    return str(version)


def _safe_member(location: Path, path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path or not pure.parts:
        raise _refuse(location, "the manifest lists a path outside the bundle", path)
    return str(pure)


def _entity_of(path: str, spec: dict[str, Any]) -> str | None:
    if "entity" in spec:  # the manifest says (None: a metadata file)
        named = spec["entity"]
        return named if isinstance(named, str) and named in ENTITIES else None
    pure = PurePosixPath(path)
    for candidate in (pure.name.split(".", 1)[0], pure.parent.name):
        if candidate in ENTITIES:
            return candidate
    return None


@contextmanager
def open_bundle(location: Path) -> Iterator[Bundle]:
    """Open and verify a bundle; RejectedInputError (naming the file) if anything is off."""
    zf: zipfile.ZipFile | None = None
    prefix = ""
    if location.is_dir():
        raw = _read_bytes(location, None, "manifest.json")
    else:
        try:
            zf = zipfile.ZipFile(location)
        except (zipfile.BadZipFile, OSError) as exc:
            raise _refuse(location, f"not a readable .zip file: {exc}") from None
        twice = sorted(n for n, k in Counter(zf.namelist()).items() if k > 1)
        if twice:
            zf.close()
            raise _refuse(location, f"entries stored more than once: {', '.join(twice)} "
                                    "(which copy is meant is unknowable)")
        names = [n for n in zf.namelist() if PurePosixPath(n).name == "manifest.json"]
        if not names:
            zf.close()
            raise _refuse(location, "not an export bundle (no manifest.json)")
        prefix = min(names, key=len)[: -len("manifest.json")]
        raw = zf.read(prefix + "manifest.json")
    bundle: Bundle | None = None
    try:
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise _refuse(location, f"manifest.json is not valid JSON: {exc}") from None
        if not isinstance(manifest, dict):
            raise _refuse(location, "manifest.json is not a JSON object")
        version = _check_version(location, manifest)
        policy = check_policy(location, manifest)
        files = _verify(location, zf, prefix, manifest)
        _refuse_unlisted(location, zf, prefix, manifest)
        bundle = Bundle(location, manifest, hashlib.sha256(raw).hexdigest(), files, policy,
                        version, left_out_keys(manifest), zf, prefix)
        yield bundle
    finally:
        if bundle is not None:
            bundle.close()
        elif zf is not None:
            zf.close()


def _entries(location: Path, zf: zipfile.ZipFile | None) -> list[str]:
    """Every file entry of the bundle, as a POSIX path inside it (folders left out; in a
    folder bundle, links are entries too)."""
    if zf is not None:
        return [n for n in zf.namelist() if not n.endswith("/")]
    return sorted(p.relative_to(location).as_posix() for p in location.rglob("*")
                  if p.is_symlink() or not p.is_dir())


def _refuse_unlisted(location: Path, zf: zipfile.ZipFile | None, prefix: str,
                     manifest: dict[str, Any]) -> None:
    """Refuse a bundle holding entries its manifest does not list (see the module docstring)."""
    listed = {prefix + str(PurePosixPath(p)) for p, _ in _listed(manifest)}
    known = {prefix + name for name in KNOWN_UNLISTED}
    unlisted = sorted(e for e in _entries(location, zf)
                      if e not in listed and e not in known)
    if unlisted:
        shown = ", ".join(unlisted[:10]) + (f" and {len(unlisted) - 10} more"
                                            if len(unlisted) > 10 else "")
        raise _refuse(location, f"entries the manifest does not list: {shown}; a bundle "
                                "holds only what its manifest vouches for (remove them, or "
                                "import them as files of their own); nothing was imported")


def _read_bytes(location: Path, zf: zipfile.ZipFile | None, member: str) -> bytes:
    try:
        return (location / member).read_bytes()
    except OSError:
        raise _refuse(location, "not an export bundle (no readable manifest.json)") from None


def _open_member(location: Path, zf: zipfile.ZipFile | None, prefix: str, path: str) -> IO[bytes]:
    try:
        if zf is not None:
            return zf.open(prefix + path)
        target = location / path
        if target.is_symlink():
            raise _refuse(location, "a bundle file may not be a symbolic link", path)
        if not target.resolve().is_relative_to(location.resolve()):  # a linked folder
            raise _refuse(location, "the path leaves the bundle through a symbolic link",
                          path)
        return target.open("rb")
    except (KeyError, OSError):
        raise _refuse(location, "listed in the manifest but missing from the bundle",
                      path) from None


def _verify(location: Path, zf: zipfile.ZipFile | None, prefix: str,
            manifest: dict[str, Any]) -> list[BundleFile]:
    """Hash and size every listed file; return the entity files in dependency order."""
    listed = _listed(manifest)
    if not listed:
        raise _refuse(location, "the manifest lists no files")
    files: list[BundleFile] = []
    for raw_path, spec in listed:
        path = _safe_member(location, raw_path)
        expected = spec.get("sha256")
        if not isinstance(expected, str):
            raise _refuse(location, "the manifest gives no sha256 for this file", path)
        want_size = spec.get("bytes", spec.get("size"))
        if zf is not None and isinstance(want_size, int):
            try:
                inflated = zf.getinfo(prefix + path).file_size
            except KeyError:  # missing: named as such below
                inflated = want_size
            if inflated != want_size:  # refused before it is inflated (a zip bomb)
                raise _refuse(location, f"size mismatch: the zip says {inflated} bytes, the "
                                        f"manifest {want_size}; nothing was imported", path)
        digest = hashlib.sha256()
        size = 0
        with _open_member(location, zf, prefix, path) as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != expected.lower().removeprefix("sha256:"):
            raise _refuse(location, "checksum mismatch: the file is not the one that was "
                                    "exported (tampered with or damaged); nothing was imported",
                          path)
        if isinstance(want_size, int) and want_size != size:
            raise _refuse(location, f"size mismatch: {size} bytes, the manifest says "
                                    f"{want_size}; nothing was imported", path)
        entity = _entity_of(path, spec)
        fmt = _FORMATS.get(PurePosixPath(path).suffix.lower())
        if entity is None or fmt is None:
            continue  # datapackage.json, README, schemas: verified, not imported
        rows = spec.get("rows")
        files.append(BundleFile(entity, path, fmt, digest.hexdigest(), size,
                                rows if isinstance(rows, int) else None))
    order = {name: i for i, name in enumerate(dependency_order())}
    files.sort(key=lambda f: (order[f.entity], f.path))
    return files
