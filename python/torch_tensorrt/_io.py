"""Atomic file writes: a temporary file in the target directory, then ``os.replace``. A failed write never leaves
a partial file or damages an existing one."""

from __future__ import annotations

import os
import tempfile
from typing import Callable


class EmptyWriteError(OSError):
    """The writer returned without producing any data."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str, write: Callable[[str], None], *, make_dirs: bool = False, what: str = "write") -> None:
    """Call ``write(tmp_path)``, then move the result onto ``path`` with the permissions a plain ``open`` would
    give (mkstemp's files are private). ``make_dirs`` creates missing parent directories."""
    directory = os.path.dirname(os.path.abspath(path))
    if make_dirs:
        os.makedirs(directory, exist_ok=True)
    elif not os.path.isdir(directory):
        raise FileNotFoundError(f"{what}: directory {directory!r} does not exist")
    base, ext = os.path.splitext(os.path.basename(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=f".tmp{ext}")
    os.close(fd)
    try:
        write(tmp)
        if not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
            raise EmptyWriteError(f"{what}: writing {path!r} produced no data")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(path: str, data: bytes, *, make_dirs: bool = False, what: str = "write") -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    atomic_write(path, write, make_dirs=make_dirs, what=what)
