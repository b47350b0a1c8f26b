#!/usr/bin/env bash
# Set up (idempotent) and run the main job: hybrid training on scikit-learn's digits. A 64-32-10
# network trained in software is written by write-verify onto TaOx/HfOx 1T1R tiles with spread,
# noise, stuck cells, 1 ohm wires, TIAs and 8-bit ADCs; its last layer is then trained in situ
# with every read and update in ngspice, and again on the fast backend. Prints the table and one
# JSON line; writes metrics, plots and a netlist to runs/demo/ (about 3 minutes on 2 cores).
# Extra arguments go to `spicelim demo` (e.g. --seed 1).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/install.sh"
cd "$here"
.venv/bin/spicelim doctor
exec .venv/bin/spicelim demo --out runs/demo "$@"
