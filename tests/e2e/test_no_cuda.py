"""Import, export, lowering, partitioning, conversion and engine build never touch CUDA.

Runs in a fresh process where every way into the CUDA runtime raises, then compiles models end to end.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sys
sys.path.insert(0, {root!r})
import torch

def _forbidden(*args, **kwargs):
    raise AssertionError("CUDA was touched in the compile path")

torch.cuda._lazy_init = _forbidden
torch._C._cuda_init = _forbidden
torch.cuda.is_available = _forbidden
torch.cuda.device_count = _forbidden
torch.cuda.current_device = _forbidden
torch.cuda.get_device_capability = _forbidden

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
