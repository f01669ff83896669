"""Hostile bundles: zip-slip paths, symbolic and hard links, a zip bomb, duplicate entries,
entries the manifest does not list, a manifest lying about sizes. Each is refused with a
message naming the entry, or contained (nothing read from outside the bundle); the workspace
is unchanged either way."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from cscor_tools.errors import RejectedInputError
from cscor_tools.export import export_bundle
from cscor_tools.imports import import_file
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store, open_store
from tests.reliability.conftest import show


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    source = tmp_path / "source.db"
    data = tmp_path / "clients.csv"
    data.write_text("email,name\nann@example.com,Ann\nbob@example.com,Bob\n")
    import_file(data, workspace=str(source))
    out = tmp_path / "bundle"
    export_bundle(str(source), out, policy="portability")
    return out


def _manifest(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "manifest.json").read_text())  # type: ignore[no-any-return]


def _write_manifest(folder: Path, manifest: dict) -> None:  # type: ignore[type-arg]
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _listed(manifest: dict, name: str) -> dict:  # type: ignore[type-arg]
    files = manifest["files"]
    if isinstance(files, dict):
        return files[name]  # type: ignore[no-any-return]
    return next(f for f in files if f.get("path", f.get("name")) == name)


def _zip(folder: Path, out: Path, extra: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
         attrs: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, p.name)
        for name, data in extra:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if attrs and name in attrs:
                info.external_attr = attrs[name] << 16
            zf.writestr(info, data)
    return out


def _data(store: Store) -> dict[str, int]:
    return {e: store.count(e) for e in ENTITIES}


def _refused_or_contained(path: Path, tmp_path: Path, names: list[str]) -> str:
    with open_store(tmp_path / "target.db") as store:
        before = _data(store)
        try:
            import_file(path, store=store)
        except RejectedInputError as exc:
            message = str(exc)
            assert _data(store) == before
            assert any(n in message for n in names), message
            return message
        return "imported"


def test_zip_slip_paths_are_refused_by_name(bundle: Path, tmp_path: Path) -> None:
    manifest = _manifest(bundle)
    entry = _listed(manifest, "clients.jsonl")
    files = manifest["files"]
    evil = "../../escaped.jsonl"
    data = (bundle / "clients.jsonl").read_bytes()
    spec = {**entry, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if isinstance(files, dict):
        files[evil] = spec
    else:
        files.append({**spec, "path": evil})
    _write_manifest(bundle, manifest)
    zipped = _zip(bundle, tmp_path / "slip.zip", extra=[(evil, data)])
    message = _refused_or_contained(zipped, tmp_path, [evil, "escaped.jsonl"])
    show({"zip-slip": message})
    assert "outside the bundle" in message
    assert not (tmp_path.parent / "escaped.jsonl").exists()


def test_a_symbolic_link_in_a_folder_bundle_is_refused(bundle: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jsonl"
    shutil.copy(bundle / "clients.jsonl", secret)
    (bundle / "clients.jsonl").unlink()
    (bundle / "clients.jsonl").symlink_to(secret)
    message = _refused_or_contained(bundle, tmp_path, ["clients.jsonl"])
    show({"symlink": message})
    assert "symbolic link" in message


def test_a_symbolic_link_to_a_folder_is_refused(bundle: Path, tmp_path: Path) -> None:
    """A link on the way to a file, not the file: reading through it leaves the bundle."""
    outside = tmp_path / "outside"
    outside.mkdir()
    manifest = _manifest(bundle)
    files = manifest["files"]
    entry = dict(_listed(manifest, "clients.jsonl"))
    shutil.move(str(bundle / "clients.jsonl"), outside / "clients.jsonl")
    (bundle / "sub").symlink_to(outside)
    if isinstance(files, dict):
        files["sub/clients.jsonl"] = files.pop("clients.jsonl")
    else:
        for f in files:
            if f.get("path") == "clients.jsonl":
                f["path"] = "sub/clients.jsonl"
    del entry
    _write_manifest(bundle, manifest)
    message = _refused_or_contained(bundle, tmp_path, ["sub/clients.jsonl", "sub"])
    show({"symlinked folder": message})
    assert message != "imported"


def test_a_hard_link_is_contained(bundle: Path, tmp_path: Path) -> None:
    """A hard link is the file itself: its content must still match the manifest's sha256,
    so it brings nothing the bundle's author could not have put in a copy."""
    other = tmp_path / "linked.jsonl"
    os.link(bundle / "clients.jsonl", other)
    with open_store(tmp_path / "target.db") as store:
        result = import_file(bundle, store=store)
    show({"hard link": f"imported {result.inserted} rows, checksums verified"})
    assert result.inserted == 2


def test_a_zip_bomb_is_refused_before_it_is_inflated(bundle: Path, tmp_path: Path) -> None:
    manifest = _manifest(bundle)
    bomb = b"\n" * (200 * 1024 * 1024)  # 200 MB of newlines deflate to about 200 KB
    entry = _listed(manifest, "clients.jsonl")
    entry["sha256"] = hashlib.sha256(bomb).hexdigest()
    entry["bytes"] = 100  # the manifest says small
    _write_manifest(bundle, manifest)
    (bundle / "clients.jsonl").unlink()
    zipped = _zip(bundle, tmp_path / "bomb.zip", extra=[("clients.jsonl", bomb)])
    del bomb
    message = _refused_or_contained(zipped, tmp_path, ["clients.jsonl"])
    show({"zip bomb": message, "zip bytes": zipped.stat().st_size})
    assert "the zip says 209715200 bytes" in message  # read from the directory, not inflated


@pytest.mark.filterwarnings("ignore:Duplicate name")  # what the attacker's zip does
def test_duplicate_entries_are_refused_by_name(bundle: Path, tmp_path: Path) -> None:
    data = (bundle / "clients.jsonl").read_bytes()
    zipped = _zip(bundle, tmp_path / "dup.zip",
                  extra=[("clients.jsonl", b'{"email": "mallory@example.com"}\n')])
    with zipfile.ZipFile(zipped) as zf:
        assert [n for n in zf.namelist() if n == "clients.jsonl"] == ["clients.jsonl"] * 2
    message = _refused_or_contained(zipped, tmp_path, ["clients.jsonl"])
    show({"duplicate entry": message})
    assert "more than once" in message
    del data


def test_a_manifest_lying_about_a_size_is_refused(bundle: Path, tmp_path: Path) -> None:
    manifest = _manifest(bundle)
    _listed(manifest, "clients.jsonl")["bytes"] = 3
    _write_manifest(bundle, manifest)
    message = _refused_or_contained(bundle, tmp_path, ["clients.jsonl"])
    show({"lying size": message})
    assert "size mismatch" in message

