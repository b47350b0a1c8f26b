#!/usr/bin/env bash
# Set up (idempotent) and run the main jobs: the ADC-precision study (signed VMM error and energy
# versus ADC bits, wire resistance and array size; about 15 s on the fast backend, written to
# runs/adc-study/), then the read study (IR-drop map of a 128x128 array and read error versus
# array size), written to runs/read-study/ as plots and a printed table. Extra arguments go to
# the read study.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/install.sh"
cd "$here"
.venv/bin/spicelim doctor
.venv/bin/spicelim adc-study --out runs/adc-study
exec .venv/bin/spicelim read-study --out runs/read-study "$@"
