#!/usr/bin/env bash
# CUDA-graph checks on the lent GPU machine (no TensorRT there), with simulated engines built elsewhere:
#   python tests/runtime/_cudagraph_models.py build/gpu/cudagraph_models.pt
#   python tests/runtime/_sim_artifacts.py build/gpu/sim_models.pt
#   python benchmarks/runtime_overhead.py --save-modules build/gpu/noop_modules.pt
# Runs tests/runtime/test_cudagraphs.py and test_cuda_paths.py, then the runtime overhead benchmark -- also with
# another version of the package for a before/after table when BEFORE (a folder holding its torch_tensorrt) is given.
# Usage there: bash scripts/gpu_cudagraphs.sh OUTDIR [BEFORE]
set -uo pipefail
out=${1:-/tmp/gpu-cudagraphs}; before=${2:-}
mkdir -p "$out"
export PYTHONPATH=$PWD/python PYTHONUNBUFFERED=1 TORCHTRT_NAMES_ONLY_TRT=1
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name())" 2>&1 | tee "$out/env.txt"
echo "== CUDA-graph and CUDA-path tests (simulated engines, names-only TensorRT)"
TORCHTRT_CUDAGRAPH_MODELS=build/gpu/cudagraph_models.pt TORCHTRT_SIM_ARTIFACTS=build/gpu/sim_models.pt \
  timeout 150 python3 -m pytest -q -p no:cacheprovider -o addopts="" -rA \
  tests/runtime/test_cudagraphs.py tests/runtime/test_cuda_paths.py >"$out/tests.txt" 2>&1
echo "pytest rc=$?" | tee -a "$out/tests.txt"; grep -E "^(PASSED|FAILED|ERROR|SKIPPED)|passed|failed" "$out/tests.txt" | tail -30
bench() {  # $1: label, $2: PYTHONPATH
  echo "== runtime overhead ($1)"
  PYTHONPATH=$2 timeout 60 python3 benchmarks/runtime_overhead.py --names-only --modules build/gpu/noop_modules.pt \
    --device cuda --calls 9000 2>&1 | tee "$out/overhead_$1.txt"
}
[ -n "$before" ] && bench before "$PWD/$before"
bench after "$PWD/python"
