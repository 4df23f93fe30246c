"""Import, export, lowering, partitioning, conversion and engine build never touch CUDA.

Runs in a fresh process where every way into CUDA initialisation or device queries raises, then compiles
models end to end (raw engine and partitioned GraphModule) and checks CUDA was never initialised.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sys
sys.path.insert(0, {root!r})
import torch

def _forbidden(name):
    # one function object per attribute: torch._dynamo keys its rules by function identity
    def raiser(*args, **kwargs):
        raise AssertionError(f"CUDA was touched in the compile path: {{name}}")
    return raiser

# Initialising CUDA or asking about a device is forbidden. (Queries that initialise nothing, like
# torch.cuda.is_available(), which torch's own FakeTensorMode calls, are allowed.)
for _name in ("_lazy_init", "init", "current_device", "set_device", "get_device_capability",
              "get_device_properties", "get_device_name", "current_stream", "synchronize"):
    setattr(torch.cuda, _name, _forbidden("torch.cuda." + _name))
torch._C._cuda_init = _forbidden("torch._C._cuda_init")

import torch_tensorrt
from examples import models
from torch_tensorrt import Input

model, (x,) = models.small_cnn()
spec = Input(min_shape=(1, 3, 32, 32), opt_shape=(2, 3, 32, 32), max_shape=(4, 3, 32, 32))
ep = torch_tensorrt.dynamo.trace(model, arg_inputs=[spec])
data = torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine(ep, arg_inputs=[spec])
assert len(data) > 1000
gm = torch_tensorrt.compile(model, ir="dynamo", arg_inputs=[x], min_block_size=1)
assert any(n.startswith("_run_on_acc_") for n, _ in gm.named_children())
assert not torch.cuda.is_initialized()
print("NO_CUDA_OK")
"""


def test_compile_path_never_touches_cuda():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(root=str(ROOT))], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "NO_CUDA_OK" in out.stdout
