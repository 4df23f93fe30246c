"""A record whose plan really compresses (ABI 4, ``runtime/_plan_pack.py``) on the C++ and the Python runtime.

The engine is simulated: ``y = x + x``, recorded as an ELEMENTWISE SUM for the Python runtime. Its plan bytes are a
stand-in TensorRT plan (``scale_add x x 1``, what the C++ test build executes) laid out the way a TensorRT-RTX plan
is, on comment lines: text-like parts (a kernel-source prelude repeated per kernel) that packing zstd-compresses,
and weights (random bytes) that it stores verbatim. The C++ runtime runs it only after unpacking every chunk
exactly (libzstd.so.1 through dlopen): a wrong byte fails the record's checksum or the stand-in's plan parser.
"""

from __future__ import annotations

import copy
import os
import pickle
import sys

import numpy as np
import pytest
import torch

from torch_tensorrt._trt import trt
from torch_tensorrt.runtime._record import EngineRecord
from torch_tensorrt.testing._engines import add_input, new_network, simulated_module, spec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_build  # noqa: E402, F401  (the rt fixture's build)

pytestmark = pytest.mark.cpp
DEVICE = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")

STAND_IN = b"torchtrt-fake-plan 1\nname doubler\ninput x float32 1x4 2x4 8x4\noutput y float32 scale_add x x 1\n"
PRELUDE = b"".join(
    b"# template <typename T> __device__ __forceinline__ T fused_%d(T a, T b) { return a + b; }  // prelude\n" % i
    for i in range(40)
)


def _plan() -> bytes:
    """The stand-in plan, then ~300 KB of kernel sources (compressible) around ~200 KB of weights (not)."""
    weights = np.random.default_rng(0).bytes(200_000).replace(b"\n", b" ")
    return STAND_IN + PRELUDE * 50 + b"#" + weights + b"\n" + PRELUDE * 25


def _doubler():
    builder, network = new_network()
    x = spec("x", torch.float32, ["s0", 4], min=[1, 4], opt=[2, 4], max=[8, 4])
    t = add_input(network, x)
    layer = network.add_elementwise(t, t, trt.ElementWiseOperation.SUM)
    layer.get_output(0).name = "y"
    network.mark_output(layer.get_output(0))
    y = spec("y", torch.float32, ["s0", 4])
    return simulated_module(builder, network, [x], [y], {"s0": ["x", 0]}, name="doubler", build=False, engine=_plan())


@pytest.fixture(scope="module")
def module():
    return _doubler()


def test_the_plan_is_packed_with_zstd_and_stored_chunks(module):
    blob = module.record.to_tensor()
    packing = EngineRecord.from_tensor(blob).packing
    codecs = [c.data is not None for c in packing.chunks]
    assert len(packing.chunks) >= 3 and True in codecs and False in codecs, codecs
    plan_size = len(_plan())
    assert packing.plan_size == plan_size
    assert blob.numel() < 0.6 * plan_size  # the kernel sources compress, the weights are kept


def test_both_runtimes_give_the_same_outputs(rt, module):
    x = torch.randn(5, 4, device=DEVICE)
    module.set_runtime("python")
    py = module(x)
    module.set_runtime("cpp")
    assert module.runtime == "cpp" and isinstance(module.engine, torch.ScriptObject)
    cpp = module(x)
    torch.testing.assert_close(cpp, py, rtol=0, atol=0)
    torch.testing.assert_close(cpp, x + x, rtol=0, atol=0)
    module.set_runtime("python")


def test_cpp_serializes_the_record_it_read_byte_for_byte(rt, module):
    blob = module.record.to_tensor()
    engine = torch.classes.tensorrt.Engine(blob)
    assert torch.equal(engine.serialize(), blob)  # the zstd frames kept, not re-compressed or stored raw
    state = engine.__getstate__()  # torch >= 2.14: (state, class name)
    assert torch.equal(state[0] if isinstance(state, tuple) else state, blob)
    x = torch.randn(3, 4, device=DEVICE)
    for clone in (pickle.loads(pickle.dumps(engine)), copy.deepcopy(engine)):
        assert torch.equal(clone.serialize(), blob)
        torch.testing.assert_close(torch.ops.tensorrt.execute_engine([x], clone)[0], x + x, rtol=0, atol=0)
    read_back = EngineRecord.from_tensor(engine.serialize())
    assert read_back.packing == module.record.packing
    assert bytes(read_back.engine) == _plan()


def test_cpp_refuses_a_corrupted_zstd_chunk_like_python(rt, module):
    data = bytearray(module.record.to_bytes())
    packing = module.record.packing
    first = next(c for c in packing.chunks if c.data is not None)
    at = bytes(data).find(first.data) + len(first.data) // 2  # a byte in the middle of the first zstd frame
    data[at] ^= 0xFF
    blob = torch.frombuffer(data, dtype=torch.uint8)
    with pytest.raises(ValueError) as py:
        EngineRecord.from_tensor(blob)
    with pytest.raises(ValueError) as cpp:
        torch.classes.tensorrt.Engine(blob)
    index = packing.chunks.index(first)
    assert str(py.value) == (
        f"engine 'doubler': field ENGINE: chunk {index}: the zstd data does not decompress to its {first.raw} plan "
        "bytes (corrupted record?)"
    )
    assert str(cpp.value).split("\n")[0] == str(py.value)
