"""Bundles in object storage (any fsspec URL: s3://, gs://, az://, memory://…).

An object store has no rename, so a remote folder bundle cannot appear whole the way a local
one does (``bundle.py``). It is written so that a reader never mistakes a half bundle for a
whole one: a marker object (``_cscor_writing``) first, then every data file streamed straight
to its object (an S3 multipart upload; no local copy), then ``datapackage.json``, and
**``manifest.json`` last** (``lifecycle.py``): a bundle is complete exactly when its manifest
is there, and the manifest lists every file with its size and sha256. The marker goes once the
manifest is written. Replacing a bundle removes the old manifest first, so the old one stops
counting as complete before any of its files change. A failed export removes what it wrote;
one killed outright leaves its marker, so a later export to the same place (a retried job)
knows the objects there are a half bundle of ours and replaces them.

A zip bundle in object storage is one object, streamed as it is written (``zipfile`` writes to
a stream it cannot seek, with a data descriptor after each entry) and uploaded in parts; the
object appears only when the upload completes, after the zip's last entry, ``manifest.json``,
and its central directory: a reader sees the old object or the new one, never half of one.

Credentials come from each store's usual environment (``AWS_ACCESS_KEY_ID``/``AWS_PROFILE``,
``AWS_ENDPOINT_URL``; ``GOOGLE_APPLICATION_CREDENTIALS``; ``AZURE_STORAGE_CONNECTION_STRING``…),
never from the URL: a URL carrying a key or password is refused, so none reaches the manifest,
the run log or a log line.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

from cscor_tools.errors import ConfigError, RejectedInputError, StoreError
from cscor_tools.export.bundle import Bundle

_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs",
             "abfs": "adlfs", "abfss": "adlfs"}


def is_remote(out: str | os.PathLike[str]) -> bool:
    """Whether ``out`` names object storage (a URL with a scheme other than file://)."""
    text = os.fspath(out)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    return scheme not in ("", "file")


#: the object a remote folder bundle holds while it is written (``_``: readers skip it)
WRITING_MARKER = "_cscor_writing"


def open_bundle(out: str | os.PathLike[str], *, zip: bool, overwrite: bool,
                replace_unfinished: bool = False) -> Bundle:
    """The bundle to write ``out`` to: a local folder or zip, a prefix in object storage, or
    one zip object there."""
    if not is_remote(out):
        return Bundle(out, zip=zip, overwrite=overwrite)
    if zip:
        return RemoteZipBundle(os.fspath(out), overwrite=overwrite)
    return RemoteBundle(os.fspath(out), overwrite=overwrite,
                        replace_unfinished=replace_unfinished)


def _safe(url: str) -> str:
    """A URL fit for messages: no user name, password or query (they may hold keys)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{parts.path}"


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system and root path of ``url``; a configuration error when the URL
    carries credentials or the store's package is missing."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or parts.query:
        raise ConfigError(
            f"{_safe(url)}: an export URL must not carry a key, password or query string; "
            "credentials come from the store's environment (e.g. AWS_ACCESS_KEY_ID, "
            "AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_CONNECTION_STRING)"
        )
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise ConfigError("object storage needs fsspec: pip install 'cscor-tools[s3]'") from None
    local = parts.scheme.lower() == "file"
    try:
        fs, root = url_to_fs(url, **({"auto_mkdir": True} if local else {}))
    except (ImportError, ValueError) as exc:
        package = _PACKAGES.get(parts.scheme.lower(), "the fsspec implementation")
        raise ConfigError(f"{_safe(url)}: cannot open this store ({exc.__class__.__name__}); "
                          f"install {package}") from None
    return fs, str(root).rstrip("/")


@contextmanager
def _storage_errors(url: str) -> Iterator[None]:
    """Object-store failures as our errors, naming the destination, never a key: refused
    credentials, a missing bucket or a denied write need a person (ConfigError); the store
    being unreachable or failing may pass (StoreError: a queued export is retried)."""
    try:
        yield
    except (ConfigError, RejectedInputError):
        raise
    except Exception as exc:  # botocore, google, azure: each its own tree
        kind = type(exc).__name__
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else kind
        if "credential" in kind.lower() or "credential" in reason.lower():
            reason = (f"{kind}: no usable credentials in the environment (e.g. "
                      "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)")
            raise ConfigError(f"{_safe(url)}: cannot write: {reason}") from None
        if isinstance(exc, PermissionError | FileNotFoundError | NotADirectoryError |
                      IsADirectoryError | ValueError | TypeError):
            raise ConfigError(f"{_safe(url)}: cannot write: {reason}") from None
        raise StoreError(f"{_safe(url)}: cannot write: {reason} (the store may be down or "
                         "unreachable)") from None


class RemoteBundle(Bundle):
    """A bundle under a prefix of object storage, complete once ``manifest.json`` is there.

    A half bundle there (the marker, no manifest: an export killed, or one still writing) is
    replaced with ``overwrite``, or with ``replace_unfinished`` alone when the caller knows no
    other export writes there now (a queued export holds the destination's lock).
    """

    def __init__(self, url: str, *, overwrite: bool, replace_unfinished: bool = False) -> None:
        self.url = url.rstrip("/")
        self.out = Path(self.url)  # unused for remote bundles: ``location`` says where
        self.zip = False
        self.overwrite = overwrite
        self._fs, self._root = filesystem(self.url)
        self._local = urlsplit(self.url).scheme.lower() == "file"
        self._written: list[str] = []
        self._committed = False
        with _storage_errors(self.url):
            existing = self._existing()
        manifest, marker = f"{self._root}/manifest.json", f"{self._root}/{WRITING_MARKER}"
        leftover = bool(existing) and marker in existing and manifest not in existing
        if leftover and not (overwrite or replace_unfinished):
            raise RejectedInputError(
                f"holds a half-written bundle ({WRITING_MARKER}, no manifest.json): another "
                "export is writing there, or one was stopped; pass --overwrite to replace it",
                file=_safe(self.url))
        if existing and not overwrite and not leftover:
            raise RejectedInputError(
                "already holds objects; choose another --out or pass --overwrite to replace "
                "the bundle there", file=_safe(self.url))
        if existing and manifest not in existing and not leftover:
            raise RejectedInputError(
                "holds objects but no bundle (no manifest.json); refusing to replace them",
                file=_safe(self.url))
        self._old = existing

    @property
    def location(self) -> str:
        return self.url

    def _existing(self) -> list[str]:
        self._fs.invalidate_cache()  # another writer may have been here since we listed
        if not self._fs.exists(self._root):
            return []
        return [str(p) for p in self._fs.find(self._root)]

    def __enter__(self) -> RemoteBundle:
        if self._old:
            with _storage_errors(self.url):
                # The manifest goes first: from now on no reader takes the old bundle as whole.
                manifest = f"{self._root}/manifest.json"
                if manifest in self._old:
                    self._fs.rm(manifest)
                rest = [p for p in self._old if p != manifest]
                if rest:
                    self._fs.rm(rest)
        self.write_file(WRITING_MARKER, b"an export is writing here; without manifest.json "
                                        b"these objects are not a bundle\n")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._committed:
            self.abort()

    @contextmanager
    def open_file(self, name: str, *, compressed: bool = False) -> Iterator[IO[bytes]]:
        """A stream straight to the object ``name`` under the prefix (``a/b.parquet`` nests)."""
        if name.startswith(("/", ".")) or ".." in name.split("/"):
            raise ValueError(f"not a bundle file name: {name!r}")
        path = f"{self._root}/{name}"
        self._written.append(path)
        with _storage_errors(self.url):
            file = self._fs.open(path, "wb")
        try:
            yield file
        except BaseException:
            _drop(file)
            raise
        with _storage_errors(self.url):
            file.close()  # the object appears whole, now (S3: the multipart upload completes)
            if self._local:  # personal data: owner-only, as every local bundle
                os.chmod(path, 0o600)

    def commit(self) -> Path:
        """Nothing left to move: ``manifest.json``, written last, made the bundle whole; the
        marker goes."""
        if not self._written or self._written[-1] != f"{self._root}/manifest.json":
            raise RuntimeError("a remote bundle is complete only once manifest.json is written "
                               "last")
        self._committed = True
        marker = f"{self._root}/{WRITING_MARKER}"
        with contextlib.suppress(Exception):  # the bundle is whole already; a stray marker
            self._fs.rm(marker)                # is removed by the next export here
        self._written.remove(marker)
        return self.out

    def abort(self) -> None:
        """Remove what was written (the manifest first, so no reader sees it complete)."""
        paths = sorted(self._written, key=lambda p: not p.endswith("/manifest.json"))
        for path in paths:
            with contextlib.suppress(Exception):
                self._fs.rm(path)
        self._written = []


def _drop(file: Any) -> None:
    """Give up an unfinished upload: nothing of it becomes an object."""
    with contextlib.suppress(Exception):
        discard = getattr(file, "discard", None)
        if discard is None:
            file.close()
            return
        discard()  # S3: the multipart upload is aborted
        file.closed = True  # or its finalizer would try to complete what was dropped


class _Unseekable:
    """A write-only view of an upload: ``zipfile`` then writes each entry's sizes after its
    data (a data descriptor) instead of seeking back, so nothing is buffered whole."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def write(self, data: bytes) -> int:
        return self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """The upload is completed (or dropped) by the bundle, not by the zip."""


class RemoteZipBundle(Bundle):
    """A zip bundle as one object, streamed: it appears (or replaces the old one) only when
    its upload completes, manifest and central directory included."""

    def __init__(self, url: str, *, overwrite: bool) -> None:
        self.url = url
        self.out = Path(url)  # unused for remote bundles: ``location`` says where
        self.zip = True
        self.overwrite = overwrite
        if url.endswith("/"):
            raise RejectedInputError("a zip bundle is one object: name it (…/bundle.zip), not "
                                     "a prefix", file=_safe(url))
        self._fs, self._path = filesystem(url)
        self._upload: Any = None
        self._zip: zipfile.ZipFile | None = None
        self._committed = False
        with _storage_errors(self.url):
            self._fs.invalidate_cache()
            exists = self._fs.exists(self._path)
            if exists and self._fs.isdir(self._path):
                raise RejectedInputError("is a prefix holding objects; a zip bundle cannot "
                                         "replace it", file=_safe(url))
            if exists and not overwrite:
                raise RejectedInputError(
                    "already exists; choose another --out or pass --overwrite to replace it",
                    file=_safe(url))
            if exists and not self._is_bundle():
                raise RejectedInputError("is not a zip bundle (no manifest.json); refusing to "
                                         "replace it", file=_safe(url))

    @property
    def location(self) -> str:
        return self.url

    def _is_bundle(self) -> bool:
        try:
            with self._fs.open(self._path, "rb") as file, zipfile.ZipFile(file) as zf:
                return "manifest.json" in zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False

    def __enter__(self) -> RemoteZipBundle:
        with _storage_errors(self.url):
            self._upload = self._fs.open(self._path, "wb")
        self._zip = zipfile.ZipFile(_Unseekable(self._upload), "w", allowZip64=True)
        return self

    def commit(self) -> Path:
        """Close the zip (its central directory), then complete the upload: the object is
        there, whole, from now on."""
        assert self._zip is not None
        with _storage_errors(self.url):
            self._zip.close()
            self._upload.close()
        self._committed = True
        return self.out

    def abort(self) -> None:
        """Give up the upload: no object appears; an old bundle there stays as it was."""
        if self._zip is not None:
            # closed before the upload is dropped (its end goes into a buffer thrown away),
            # rather than left to the garbage collector, which would write to a dead upload
            with contextlib.suppress(Exception):
                self._zip.close()
            self._zip = None
        if self._upload is not None and not self._upload.closed:
            _drop(self._upload)
        self._upload = None
