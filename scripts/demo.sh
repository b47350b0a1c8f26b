#!/usr/bin/env bash
# Set up (idempotent) and run the main job: the read study (IR-drop map of a 128x128 array and
# read error versus array size), written to runs/read-study/ as plots and a printed table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/install.sh"
cd "$here"
.venv/bin/spicelim doctor
exec .venv/bin/spicelim read-study --out runs/read-study "$@"
