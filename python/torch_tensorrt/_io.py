"""Atomic file writes: a temporary file in the target directory, then ``os.replace``. A failed write never leaves
a partial file or damages an existing one.

The temporary file is ``.<name>.<pid>-<random>.tmp<ext>`` next to the target. A writer killed before it could
clean up (SIGKILL, SIGTERM) leaves one behind; the next write to the same target removes those whose process is
gone. Errors name the target, never the temporary file.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from typing import Callable


class EmptyWriteError(OSError):
    """The writer returned without producing any data."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(path: str) -> list[str]:
    """Remove the temporary files that writers of ``path`` killed mid-write left behind; returns their paths."""
    directory = os.path.dirname(os.path.abspath(path))
    base, ext = os.path.splitext(os.path.basename(path))
    pattern = re.compile(re.escape(f".{base}.") + r"(\d+)-[^/]+" + re.escape(f".tmp{ext}"))
    removed = []
    for candidate in glob.glob(os.path.join(glob.escape(directory), glob.escape(f".{base}.") + "*")):
        m = pattern.fullmatch(os.path.basename(candidate))
        if m is None or int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
            continue
        try:
            os.remove(candidate)
            removed.append(candidate)
        except OSError:  # raced with another cleaner, or not ours to remove
            pass
    return removed


def _naming_target(exc: BaseException, tmp: str, path: str, what: str) -> BaseException:
    """``exc`` retold about ``path`` instead of the temporary file (same type where it can be rebuilt)."""
    text = str(exc).replace(tmp, path)
    if isinstance(exc, OSError) and exc.errno is not None:
        new: BaseException = type(exc)(exc.errno, f"{what}: writing {path!r} failed: {exc.strerror}", path)
    else:
        try:
            new = type(exc)(f"{what}: writing {path!r} failed: {text}")
        except Exception:
            new = RuntimeError(f"{what}: writing {path!r} failed: {type(exc).__name__}: {text}")
    return new


def atomic_write(path: str, write: Callable[[str], None], *, make_dirs: bool = False, what: str = "write") -> None:
    """Call ``write(tmp_path)``, then move the result onto ``path`` with the permissions a plain ``open`` would
    give (mkstemp's files are private). ``make_dirs`` creates missing parent directories."""
    directory = os.path.dirname(os.path.abspath(path))
    if make_dirs:
        os.makedirs(directory, exist_ok=True)
    elif not os.path.isdir(directory):
        raise FileNotFoundError(f"{what}: directory {directory!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{what}: {path!r} is a directory")
    remove_stale_temporaries(path)
    base, ext = os.path.splitext(os.path.basename(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.{os.getpid()}-", suffix=f".tmp{ext}")
    except OSError as exc:
        raise type(exc)(exc.errno, f"{what}: cannot write into {directory!r}: {exc.strerror}", path) from exc
    os.close(fd)
    try:
        try:
            write(tmp)
            if not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
                raise EmptyWriteError(f"{what}: writing {path!r} produced no data")
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except (KeyboardInterrupt, SystemExit, EmptyWriteError):
            raise
        except BaseException as exc:
            if tmp not in str(exc) and not isinstance(exc, OSError):
                raise
            raise _naming_target(exc, tmp, path, what) from exc
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
