#!/usr/bin/env bash
# Installs what the tests need (Python packages, Debian's chromium for the browser tests) and runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "chromium is not installed and this user cannot apt-get install it; browser tests will be skipped (they fail when CI=true)." >&2
  fi
fi
exec python -m pytest -q "$@"
