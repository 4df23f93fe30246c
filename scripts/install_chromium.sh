#!/usr/bin/env bash
# Test set-up for tests/e2e/test_coverage_page.py, which renders the coverage page in headless Chromium:
# installs Debian's `chromium` with apt-get when it is missing. Quick when it is there; never fatal (where
# apt-get is absent or not permitted, the browser test skips, naming the reason).
set -uo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_chromium: no apt-get here; the coverage page's browser test will be skipped" >&2
  exit 0
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    echo "install_chromium: not root and no password-less sudo; the browser test will be skipped" >&2
    exit 0
  fi
fi
echo "install_chromium: installing chromium (apt-get) for the coverage page's browser test" >&2
install() { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium >/dev/null; }
if ! install 2>/dev/null; then
  "${SUDO[@]}" apt-get update -q >/dev/null 2>&1 && install || \
    echo "install_chromium: apt-get could not install chromium; the browser test will be skipped" >&2
fi
exit 0
