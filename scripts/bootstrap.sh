#!/usr/bin/env bash
# Idempotent set-up: creates .venv at the repository root and installs the package (editable) with its test
# extras and TensorRT-RTX. Safe to run again; a finished set-up is a quick no-op check.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
# This machine's pip config lists local index folders that may be absent; drop those warnings, keep the rest.
quiet() { "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }
stamp=.venv/.torchtrt-installed
want="$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# The test environment is pinned (see ../shared/ENVIRONMENT.md); the package itself needs torch>=2.11.
quiet "${PIP[@]}" install "torch==2.14.1" "torchvision==0.29.1" "scikit-build-core>=0.10" "pybind11>=2.12"
# --no-build-isolation: the C++ runtime (when a TensorRT SDK is found) builds against this venv's torch.
quiet "${PIP[@]}" install --no-build-isolation -e ".[rtx,test]"
echo "$want" > "$stamp"
