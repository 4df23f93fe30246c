#!/usr/bin/env bash
# CUDA checks on the lent GPU machine (no TensorRT there): builds the C++ runtime against that machine's CUDA
# torch with the stand-in TensorRT, runs its C++ tests, runs the CUDA-path tests of the Python runtime with
# simulated engines compiled here (build/gpu/sim_models.pt, made by tests/runtime/_sim_artifacts.py), and the
# runtime overhead benchmark. Usage there: bash scripts/gpu_check.sh OUTDIR
set -uo pipefail
out=${1:-/tmp/gpu-check}; mkdir -p "$out"
export PYTHONPATH=$PWD/python PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=$PYTHONPATH:/tmp/site
fi
{
  nvidia-smi -L
  python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name(), torch.cuda.get_device_capability())"
  cmake --version | head -1
} 2>&1 | tee "$out/env.txt"
echo "== C++ runtime (stand-in TensorRT) against this machine's torch" | tee "$out/cpp.txt"
( cd tests/runtime && time python3 -c "import cpp_build; print(cpp_build.build(jobs=16))" ) >>"$out/cpp.txt" 2>&1
ctest --test-dir build/cpp-tests --output-on-failure >>"$out/cpp.txt" 2>&1; echo "ctest rc=$?" | tee -a "$out/cpp.txt"
tail -5 "$out/cpp.txt"
echo "== CUDA paths (simulated engines, names-only TensorRT)"
TORCHTRT_NAMES_ONLY_TRT=1 TORCHTRT_SIM_ARTIFACTS=build/gpu/sim_models.pt \
  python3 -m pytest -q -p no:cacheprovider -o addopts="" -rA tests/runtime/test_cuda_paths.py 2>&1 | tee "$out/cuda_paths.txt" | tail -15
echo "== runtime overhead"
TORCHTRT_RUNTIME_LIBRARY=$PWD/build/cpp-tests/libtorchtrt_runtime.so \
  python3 benchmarks/runtime_overhead.py --names-only --modules build/gpu/noop_modules.pt --device cuda --calls 5000 2>&1 | tee "$out/overhead.txt"
