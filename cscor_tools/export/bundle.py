"""A bundle being written: a folder or a .zip, owner-only, complete or absent.

Files are written under a temporary name beside the destination; ``commit`` moves the whole
bundle into place (see ``place.py``), and leaving the ``with`` block without committing — an
error, an interrupt — removes what was written. A crash that kills the process outright leaves
only a hidden ``.NAME.cscor-tmp-…`` beside the destination, never a partial bundle at it.

Zip bundles are reproducible: entries in the order written, each with the same fixed time and
owner-only permissions; data files are stored as written when their format already compresses
(Parquet), deflated otherwise.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from cscor_tools.export.place import check_destination, place, sync_dir

#: the time every zip entry carries (the earliest a zip can express): no clock in the bytes
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o600
_DIR_MODE = 0o700


class Bundle:
    """Where an export writes its files; use as a context manager, then ``commit``.

    Creating one only checks the destination; entering it creates the temporary folder or zip.
    """

    def __init__(self, out: str | os.PathLike[str], *, zip: bool, overwrite: bool) -> None:
        self.out = Path(out).absolute()
        self.zip = zip
        self.overwrite = overwrite
        check_destination(self.out, zip=zip, overwrite=overwrite)
        self.tmp = self.out.with_name(f".{self.out.name}.cscor-tmp-{secrets.token_hex(4)}")
        self._zip: zipfile.ZipFile | None = None
        self._zip_file: IO[bytes] | None = None
        self._committed = False

    @property
    def location(self) -> str:
        """Where the bundle goes, for the run log and messages (a URL in object storage)."""
        return str(self.out)

    def __enter__(self) -> Bundle:
        """Create the temporary folder or zip: nothing exists on disk before this."""
        if self.zip:
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
            self._zip_file = os.fdopen(fd, "wb")
            self._zip = zipfile.ZipFile(self._zip_file, "w", allowZip64=True)
        else:
            os.mkdir(self.tmp, _DIR_MODE)
            os.chmod(self.tmp, _DIR_MODE)  # whatever the umask: the bundle holds personal data
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.abort()

    @contextmanager
    def open_file(self, name: str, *, compressed: bool = False) -> Iterator[IO[bytes]]:
        """A binary stream for file ``name`` of the bundle, closed (and synced) on exit."""
        if "/" in name or name.startswith("."):
            raise ValueError(f"not a bundle file name: {name!r}")
        if self._zip is not None:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if compressed else zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permissions below are read
            info.external_attr = (0o100000 | _FILE_MODE) << 16
            # force_zip64: an entry's size is unknown until written, and may pass 4 GiB
            with self._zip.open(info, "w", force_zip64=True) as entry:
                yield entry
            return
        fd = os.open(self.tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        with os.fdopen(fd, "wb", buffering=1 << 20) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())

    def write_file(self, name: str, data: bytes) -> None:
        with self.open_file(name) as file:
            file.write(data)

    def commit(self) -> Path:
        """Move the complete bundle into place; returns where it is."""
        if self._zip is not None and self._zip_file is not None:
            self._zip.close()
            self._zip_file.flush()
            os.fsync(self._zip_file.fileno())
            self._zip_file.close()
        else:
            sync_dir(self.tmp)
        place(self.tmp, self.out, overwrite=self.overwrite)
        self._committed = True
        return self.out

    def abort(self) -> None:
        """Remove everything written so far; the destination is left as it was."""
        if self._zip is not None:
            # closed here rather than left to the garbage collector, which would try to
            # finish it at some later moment; its content is deleted just below
            with contextlib.suppress(ValueError, OSError):
                self._zip.close()
        if self._zip_file is not None and not self._zip_file.closed:
            self._zip_file.close()
        if self.tmp.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp.exists():
            self.tmp.unlink()
