import os

import pytest

from torch_tensorrt._io import EmptyWriteError, atomic_write, atomic_write_bytes


def test_atomic_write_replaces_and_uses_umask_permissions(tmp_path):
    target = tmp_path / "a" / "f.bin"
    atomic_write_bytes(str(target), b"new", make_dirs=True)
    assert target.read_bytes() == b"new"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert os.listdir(target.parent) == ["f.bin"]


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def fail(tmp):
        with open(tmp, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(str(target), fail)
    with pytest.raises(EmptyWriteError, match="produced no data"):
        atomic_write(str(target), lambda tmp: None)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_bytes(str(tmp_path / "nope" / "f.bin"), b"x")
