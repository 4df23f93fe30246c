#!/usr/bin/env bash
# CUDA checks on the lent GPU machine (no TensorRT there). Usage there: bash scripts/gpu_check.sh OUTDIR
#
# 1. builds the C++ runtime against that machine's CUDA torch with the stand-in TensorRT, which runs in its CUDA
#    mode there, plus examples/cpp against the installed package (tests/runtime/cpp_build.py --example);
# 2. runs the C++ tests (ctest: record, compat, runtime with CUDA tensors, the TensorRT-RTX flavour) and the
#    Python-side C++ runtime tests: CUDA tensors, the caller's stream (default and not), CUDA graph capture of a
#    module on the C++ runtime, the C++ runtime's own per-engine CUDA graphs (captured for real: the build there
#    has the CUDA headers), device selection, a misaligned input, shape tensors, and the
#    example program on a TorchScript file and an AOTInductor package saved there;
# 3. the runtime overhead benchmark (build/gpu/noop_modules.pt, made by
#    `python benchmarks/runtime_overhead.py --save-modules build/gpu/noop_modules.pt`), C++ rows on CUDA;
# 4. runs the Python runtime's CUDA-path and CUDA-graph tests with simulated engines compiled elsewhere
#    (build/gpu/sim_models.pt, made by `python tests/runtime/_sim_artifacts.py build/gpu/sim_models.pt`, and
#    build/gpu/cudagraph_models.pt, made by `python tests/runtime/_cudagraph_models.py build/gpu/cudagraph_models.pt`).
# Carry build/gpu to the machine (the `run` tool's carry).
# Each step has a time limit so that the whole run ends inside one 10-minute call; outputs go to OUTDIR.
set -uo pipefail
out=${1:-/tmp/gpu-check}; mkdir -p "$out"
export PYTHONPATH=$PWD/python PYTHONUNBUFFERED=1 TORCHTRT_NAMES_ONLY_TRT=1
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=$PYTHONPATH:/tmp/site
fi
step() { echo "== $1 ($(date +%T))"; }
{
  nvidia-smi -L
  python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name(), torch.cuda.get_device_capability())"
  cmake --version | head -1; nproc; c++ --version | head -1
  so=$(c++ -print-file-name=libstdc++.so); echo "libstdc++.so: $so"; file -L "$so" 2>/dev/null | head -1
  head -c 300 "$so" 2>/dev/null | grep -a INPUT || true  # a linker script (static parts) rather than the library
} 2>&1 | tee "$out/env.txt"

step "build: C++ runtime (stand-in TensorRT) and examples/cpp against this machine's torch" | tee "$out/cpp.txt"
( cd tests/runtime && time timeout 240 python3 cpp_build.py --example -j "$(nproc)" ) >>"$out/cpp.txt" 2>&1
echo "build rc=$?" | tee -a "$out/cpp.txt"
step "ctest" | tee -a "$out/cpp.txt"
timeout 60 ctest --test-dir build/cpp-tests --output-on-failure -V >>"$out/cpp.txt" 2>&1; echo "ctest rc=$?" | tee -a "$out/cpp.txt"
grep -E "\[ OK \]|\[FAIL\]|cases passed|stand-in mode|tests passed" "$out/cpp.txt" | tail -60

step "pytest: C++ runtime on CUDA (runtime, cuda paths, example program)" | tee "$out/pytest_cpp.txt"
# xdist: a test that crashes its worker is reported and the others still run.
timeout 220 python3 -m pytest -q -p no:cacheprovider -o addopts="" -rA -n 4 tests/runtime/test_cpp_runtime.py \
  tests/runtime/test_cpp_cuda.py tests/runtime/test_cpp_example.py tests/runtime/test_cpp_sdk.py >>"$out/pytest_cpp.txt" 2>&1
echo "pytest rc=$?" | tee -a "$out/pytest_cpp.txt"
grep -E "^(PASSED|FAILED|ERROR|SKIPPED)|passed|failed|crashed" "$out/pytest_cpp.txt" | tail -80
crashed=$(grep -oE "crashed while running '[^']+'" "$out/pytest_cpp.txt" | head -1 | cut -d"'" -f2)
if [[ -n $crashed ]] && command -v cuda-gdb >/dev/null; then
  step "native backtrace of $crashed (cuda-gdb)" | tee -a "$out/pytest_cpp.txt"
  timeout 120 cuda-gdb -q -batch -ex "set pagination off" -ex run -ex "bt 40" --args python3 -m pytest -q \
    -p no:cacheprovider -o addopts="" "$crashed" 2>&1 | grep -E "^#|SIG" | head -60 | tee -a "$out/pytest_cpp.txt"
fi

step "example program, run by hand on the saved artifacts" | tee "$out/example.txt"
art=$(find /tmp/pytest-of-* -type d -name deploy0 2>/dev/null | tail -1)
for m in model.ts model.pt2; do
  [[ -n $art && -f $art/$m ]] && timeout 40 build/cpp-example/torchtrt_example "$art/$m" "$art/inputs.pt" --device cuda --repeat 2000 2>&1
done | tee -a "$out/example.txt"

step "runtime overhead"
TORCHTRT_RUNTIME_LIBRARY=$PWD/build/cpp-tests/libtorchtrt_runtime.so timeout 90 \
  python3 benchmarks/runtime_overhead.py --names-only --modules build/gpu/noop_modules.pt --device cuda --calls 5000 2>&1 | tee "$out/overhead.txt"
step "CUDA paths and CUDA graphs of the Python runtime (simulated engines, names-only TensorRT)"
TORCHTRT_SIM_ARTIFACTS=build/gpu/sim_models.pt TORCHTRT_CUDAGRAPH_MODELS=build/gpu/cudagraph_models.pt timeout 120 \
  python3 -m pytest -q -p no:cacheprovider -o addopts="" -rA tests/runtime/test_cuda_paths.py \
  tests/runtime/test_cudagraphs.py 2>&1 | tee "$out/cuda_paths.txt" | grep -E "^(PASSED|FAILED|ERROR)|passed|failed"

step "done"
