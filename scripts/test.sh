#!/usr/bin/env bash
# The README's test command (and CI's): set up .venv, lint with ruff, type-check with mypy, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check python tests benchmarks scripts examples
.venv/bin/mypy  # [tool.mypy] in pyproject.toml: the package, strict Optional
.venv/bin/python -m pytest -n 2 -q tests "$@"
