import subprocess
import sys

import pytest

from torch_tensorrt import _trt


def test_loads_available_flavour():
    mod = _trt.load()
    info = _trt.info()
    assert info.flavour in ("tensorrt", "tensorrt_rtx")
    assert info.version.split(".")[0].isdigit()
    assert _trt.trt.DataType is mod.DataType


def test_missing_tensorrt_gives_install_hint(monkeypatch):
    monkeypatch.setattr(_trt, "CANDIDATES", (("no_such_tensorrt_module", "tensorrt"),))
    _trt._reset_for_tests()
    try:
        assert not _trt.is_available()
        with pytest.raises(ImportError, match=r"torch_tensorrt\[tensorrt\].*torch_tensorrt\[rtx\]"):
            _trt.trt.Builder
    finally:
        monkeypatch.undo()
        _trt._reset_for_tests()
    assert _trt.is_available()


def test_forced_module_name(monkeypatch):
    monkeypatch.setenv("TORCHTRT_TENSORRT_MODULE", "bogus")
    _trt._reset_for_tests()
    try:
        with pytest.raises(ImportError, match="bogus"):
            _trt.load()
    finally:
        monkeypatch.delenv("TORCHTRT_TENSORRT_MODULE")
        _trt._reset_for_tests()


def test_import_without_tensorrt_and_without_importing_it():
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('tensorrt', 'tensorrt_rtx', 'tensorrt_rtx_bindings'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import torch_tensorrt\n"
        "from torch_tensorrt import Input, dynamo\n"
        "Input((1, 2)); dynamo.CompilationSettings()\n"
        "try:\n"
        "    torch_tensorrt._trt.trt.Builder\n"
        "except ImportError as e:\n"
        "    print('HINT', '[rtx]' in str(e))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HINT True" in out.stdout
