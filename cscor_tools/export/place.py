"""Moving a finished bundle into place atomically: it appears whole, or not at all.

A bundle is written under a temporary name in the destination's own folder (same file system,
so a rename can move it) and renamed when complete. A folder replacing an older bundle is
swapped with it in one step where Linux allows (``renameat2(RENAME_EXCHANGE)``), so at no moment
does the destination hold half of either; elsewhere the old one is moved aside first.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import zipfile
from pathlib import Path

from cscor_tools.errors import RejectedInputError

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """True when the kernel did it; False when renameat2 or the flag is not supported here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(dst))


def check_destination(out: Path, *, zip: bool, overwrite: bool) -> None:
    """Refuse a destination that cannot receive a bundle, before any work is done."""
    if not out.parent.is_dir():
        raise RejectedInputError(f"the folder {out.parent} does not exist", file=str(out))
    if not (out.exists() or out.is_symlink()):
        return
    if not overwrite:
        raise RejectedInputError(
            "already exists; choose another --out or pass --overwrite to replace it",
            file=str(out),
        )
    if out.is_symlink():
        raise RejectedInputError("is a symbolic link; refusing to replace it", file=str(out))
    if out.is_dir() == zip:
        raise RejectedInputError(
            f"is a {'folder' if out.is_dir() else 'file'}; a {'zip' if zip else 'folder'} "
            "bundle cannot replace it",
            file=str(out),
        )
    # --overwrite replaces an earlier bundle, never an arbitrary folder or file (a typo of `~`)
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise RejectedInputError(
            "is a folder that does not hold a bundle (no manifest.json); refusing to replace it",
            file=str(out),
        )
    if out.is_file() and not _is_zip_bundle(out):
        raise RejectedInputError(
            "is a file that is not a zip bundle (no manifest.json); refusing to replace it",
            file=str(out),
        )


def place(tmp: Path, out: Path, *, overwrite: bool) -> None:
    """Move the finished ``tmp`` to ``out``; the caller removes ``tmp`` if this raises."""
    check_destination(out, zip=tmp.is_file(), overwrite=overwrite)
    if not out.exists():
        try:
            _place_new(tmp, out)
        except FileExistsError:
            raise RejectedInputError(
                "appeared while the bundle was being written; nothing was replaced",
                file=str(out),
            ) from None
        sync_dir(out.parent)
        return
    if tmp.is_file():
        os.replace(tmp, out)
        sync_dir(out.parent)
        return
    if _renameat2(tmp, out, _RENAME_EXCHANGE):
        shutil.rmtree(tmp)  # the old bundle, now under the temporary name
        sync_dir(out.parent)
        return
    aside = tmp.with_name(tmp.name + ".old")
    os.rename(out, aside)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(aside, out)
        raise
    shutil.rmtree(aside)
    sync_dir(out.parent)


def _is_zip_bundle(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "manifest.json" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _place_new(tmp: Path, out: Path) -> None:
    if _renameat2(tmp, out, _RENAME_NOREPLACE):
        return
    if tmp.is_file():
        os.link(tmp, out)  # unlike a rename, fails if something appeared at `out` meanwhile
        os.unlink(tmp)
    else:
        os.rename(tmp, out)  # fails on a non-empty folder that appeared meanwhile


def sync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry is on disk once this returns."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
