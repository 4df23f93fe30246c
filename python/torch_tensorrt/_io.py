"""Atomic file writes: a temporary file in the target directory, then ``os.replace``. A failed write never leaves
a partial file or damages an existing one.

The temporary file is ``<name><ext>`` inside a fresh folder ``.<name>.<pid>-<random>.tmp`` next to the target
(so writers that name things after the file -- ``torch.export.save`` names the archive's root folder after it --
see the target's name). A writer killed before it could clean up (SIGKILL, SIGTERM) leaves the folder behind; the
next write to the same target removes those whose process is gone. Errors name the target, never the temporary.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import time
from typing import Callable, Union


#: Temporaries of the old naming (no PID) are removed once they are this old: their writer is surely gone.
LEGACY_AGE_S = 600


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
    base = os.path.basename(path)
    pattern = re.compile(re.escape(f".{base}.") + r"(\d+)-[^/]+\.tmp")
    stem, ext = os.path.splitext(base)
    legacy = re.compile(re.escape(f".{stem}.") + r"[a-z0-9_]{8}" + re.escape(f".tmp{ext}"))  # before the PID naming
    removed = []
    candidates = glob.glob(os.path.join(glob.escape(directory), glob.escape(f".{stem}.") + "*"))
    for candidate in candidates:
        name = os.path.basename(candidate)
        m = pattern.fullmatch(name)
        if m is not None:
            if int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
                continue
        elif not (legacy.fullmatch(name) and time.time() - os.path.getmtime(candidate) > LEGACY_AGE_S):
            continue
        try:
            if os.path.isdir(candidate) and not os.path.islink(candidate):
                shutil.rmtree(candidate)
            else:
                os.remove(candidate)
            removed.append(candidate)
        except OSError:  # raced with another cleaner, or not ours to remove
            pass
    return removed


def _naming_target(exc: BaseException, tmp: str, folder: str, path: str, what: str) -> BaseException:
    """``exc`` retold about ``path`` instead of the temporary file (same type where it can be rebuilt)."""
    text = str(exc).replace(tmp, path).replace(folder, os.path.dirname(os.path.abspath(path)))
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
    try:
        folder = tempfile.mkdtemp(dir=directory, prefix=f".{os.path.basename(path)}.{os.getpid()}-", suffix=".tmp")
    except OSError as exc:
        raise type(exc)(exc.errno, f"{what}: cannot write into {directory!r}: {exc.strerror}", path) from exc
    tmp = os.path.join(folder, os.path.basename(path))
    try:
        try:
            write(tmp)
            if not os.path.isfile(tmp) or os.path.getsize(tmp) == 0:
                raise EmptyWriteError(f"{what}: writing {path!r} produced no data")
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except (KeyboardInterrupt, SystemExit, EmptyWriteError):
            raise
        except BaseException as exc:
            if folder not in str(exc) and not isinstance(exc, OSError):
                raise
            raise _naming_target(exc, tmp, folder, path, what) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def atomic_write_bytes(
    path: str, data: Union[bytes, bytearray, memoryview], *, make_dirs: bool = False, what: str = "write"
) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    atomic_write(path, write, make_dirs=make_dirs, what=what)
