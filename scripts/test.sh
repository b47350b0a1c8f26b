#!/usr/bin/env bash
# Set up (idempotent) and run the test suite: bash scripts/test.sh [extra pytest args]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/install.sh"
cd "$here"
exec .venv/bin/python -m pytest -q "$@"
