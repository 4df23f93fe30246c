#!/usr/bin/env bash
# Compiles every translation unit of runtime_cpp/src against a REAL TensorRT include folder (not the stand-in of
# tests/cpp) and the torch of a Python, with -Wall -Wextra -Werror in C++20, and lists the symbols the objects
# need from the TensorRT library. It also compiles tests/cpp/trt_api_signatures.cpp, which asserts that every
# TensorRT declaration of the stand-in headers (what the runtime may call) has exactly the real header's type.
# Nothing here is needed by CI: the headers are NVIDIA's, fetched by hand.
#
#   bash scripts/check_real_headers.sh INCLUDE_DIR [PYTHON]
#
# INCLUDE_DIR holds NvInfer.h / NvInferRuntime.h / NvInferVersion.h (e.g. include/ of a checkout of
# github.com/NVIDIA/TensorRT at a tag, kept OUTSIDE this repository). PYTHON (default .venv/bin/python, else
# python3) gives torch's headers. CXX and CUDA_HOME (default /usr/local/cuda) are honoured.
set -euo pipefail
inc=${1:?usage: check_real_headers.sh INCLUDE_DIR [PYTHON]}
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${2:-}
if [[ -z $py ]]; then
  if [[ -x $repo/.venv/bin/python ]]; then py=$repo/.venv/bin/python; else py=python3; fi
fi
cxx=${CXX:-c++}
cuda=${CUDA_HOME:-/usr/local/cuda}
[[ -f $inc/NvInferRuntime.h ]] || { echo "no NvInferRuntime.h in $inc" >&2; exit 2; }
[[ -f $cuda/include/cuda_runtime_api.h ]] || { echo "no CUDA headers in $cuda/include (set CUDA_HOME)" >&2; exit 2; }
if grep -q TORCHTRT_STAND_IN_TENSORRT_HEADERS "$inc/NvInferVersion.h"; then
  echo "$inc holds the stand-in headers of tests/cpp; point at a real TensorRT include folder" >&2; exit 2
fi

read -r torch_inc abi < <("$py" -c "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'include'), int(torch._C._GLIBCXX_USE_CXX11_ABI))")
version=$(sed -n 's/^#define \(TRT_[A-Z]*_[A-Z]*\|NV_TENSORRT_[A-Z]*\) *\([0-9][0-9]*\).*/\1=\2/p' "$inc/NvInferVersion.h" | tr '\n' ' ')
echo "TensorRT headers: $inc ($version)"
echo "torch: $torch_inc ($("$py" -c 'import torch; print(torch.__version__)'))"
echo "compiler: $($cxx --version | head -1)"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-std=c++20 -fPIC -O1 -Wall -Wextra -Werror -D_GLIBCXX_USE_CXX11_ABI="$abi"
       -I"$repo/runtime_cpp/include" -isystem "$inc" -isystem "$cuda/include"
       -isystem "$torch_inc" -isystem "$torch_inc/torch/csrc/api/include")
status=0
for src in "$repo"/runtime_cpp/src/*.cpp; do
  name=$(basename "$src" .cpp)
  if "$cxx" "${flags[@]}" -c "$src" -o "$out/$name.o" 2>"$out/$name.log"; then
    echo "  ok    $name.cpp"
  else
    echo "  FAIL  $name.cpp"; sed 's/^/        /' "$out/$name.log" | head -60; status=1
  fi
done
sig=$repo/tests/cpp/trt_api_signatures.cpp
if "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Werror -isystem "$inc" -isystem "$cuda/include" "$sig" \
     2>"$out/signatures.log"; then
  echo "  ok    the stand-in's declarations have the real signatures ($(grep -cE '^TORCHTRT_(MEMBER|OVERLOAD|FUNCTION)\(' "$sig") checked; tests/cpp/trt_api_signatures.cpp)"
else
  echo "  FAIL  tests/cpp/trt_api_signatures.cpp: a stand-in declaration differs from the real header"
  grep -E "error" "$out/signatures.log" | sed 's/^/        /' | head -40; status=1
fi
if [[ $status -eq 0 ]]; then
  # Undefined symbols that neither torch, CUDA nor the C++ runtime library provide: what the TensorRT library
  # must export (everything else in its headers is inline).
  echo "symbols needed from the TensorRT library:"
  nm -u "$out"/*.o | awk '{print $2}' | sort -u | grep -E '^(createInfer|getInfer|_ZN8nvinfer1)' | sed 's/^/  /' || true
  echo "all runtime translation units compile against $inc"
fi
exit $status
