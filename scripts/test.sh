#!/usr/bin/env bash
# The README's test command (and CI's): set up .venv, lint and format-check with ruff, type-check with mypy, run the
# whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/install_chromium.sh  # the coverage page's browser test; never fatal
.venv/bin/ruff check python tests benchmarks scripts examples
.venv/bin/ruff format --check python tests benchmarks scripts examples
.venv/bin/mypy  # [tool.mypy] in pyproject.toml: the package, strict Optional
.venv/bin/python -m pytest -n 2 -q tests "$@"
