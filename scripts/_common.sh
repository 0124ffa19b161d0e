# shellcheck shell=bash
# Shared helpers for scripts/run.sh and scripts/test.sh. Source it, do not run it.
#
# pc_setup_venv run|test: find a Python >= 3.12, make sure .venv exists and uses it, and
# install what that use needs, only when it changed since the last install:
#   run   requirements.txt + AstrBot (the version requirements-dev.txt pins): running only
#   test  requirements-dev.txt + requirements.txt: the test and bench toolchain too
# A test install serves a run as well.

set -euo pipefail

PC_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PC_VENV="$PC_REPO_ROOT/.venv"
PC_VENV_PY="$PC_VENV/bin/python"
PC_STAMP="$PC_VENV/.pc-deps-stamp"
PC_MIN_PY="3.12"

pc_say() { printf '==> %s\n' "$*" >&2; }
pc_warn() { printf 'warning: %s\n' "$*" >&2; }
pc_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Print the real interpreter path (sys.executable) if the command runs and is >= 3.12.
# A pyenv shim for a version that is not selected fails to run, so it is skipped here.
_pc_probe() {
    "$@" -c 'import sys; assert sys.version_info >= (3, 12); print(sys.executable)' \
        2>/dev/null
}

# Echo the path of a Python >= 3.12, or fail with what to install.
pc_find_python() {
    local found="" cand ver
    if [[ -n "${PYTHON:-}" ]]; then
        found="$(_pc_probe "$PYTHON")" ||
            pc_die "PYTHON=$PYTHON is not a working Python >= $PC_MIN_PY"
        echo "$found"
        return 0
    fi
    for cand in python3.13 python3.12; do
        if command -v "$cand" >/dev/null 2>&1 && found="$(_pc_probe "$cand")"; then
            echo "$found"
            return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for ver in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[23]\.[0-9]+$' |
            sort -t. -k1,1nr -k2,2nr -k3,3nr); do
            if found="$(PYENV_VERSION="$ver" _pc_probe pyenv exec python)"; then
                echo "$found"
                return 0
            fi
        done
    fi
    if command -v python3 >/dev/null 2>&1 && found="$(_pc_probe python3)"; then
        echo "$found"
        return 0
    fi
    pc_die "no Python >= $PC_MIN_PY found (AstrBot >= 4.29.3 needs it).
  Install one (Debian 12 ships only 3.11), e.g. 'pyenv install 3.12' or 'uv python install 3.12',
  or point PYTHON at it: PYTHON=/path/to/python3.12 bash scripts/$(basename "$0")"
}

# True if .venv has a working Python >= 3.12 with pip.
_pc_venv_ok() {
    [[ -x "$PC_VENV_PY" ]] &&
        "$PC_VENV_PY" -c 'import sys, pip; assert sys.version_info >= (3, 12)' 2>/dev/null
}

# pip here may print "Location ... is ignored" warnings (a find-links config): drop them.
_pc_quiet_pip() {
    "$PC_VENV_PY" -m pip "$@" 2>&1 | { grep -v -E 'Location .* is ignored' || true; }
}

# The AstrBot the tests run on, as pinned in requirements-dev.txt (astrbot==X.Y.Z).
pc_astrbot_requirement() {
    local pin
    pin="$(grep -E '^astrbot==' "$PC_REPO_ROOT/requirements-dev.txt" | head -n 1)"
    [[ -n "$pin" ]] || pc_die "requirements-dev.txt pins no astrbot==<version>"
    echo "$pin"
}

# "<mode>:<hash of the Python version and of what that mode installs>".
_pc_deps_stamp() {
    local mode="$1"
    {
        "$PC_VENV_PY" -c 'import sys; print(sys.version)'
        cat "$PC_REPO_ROOT/requirements.txt"
        if [[ "$mode" == "test" ]]; then
            cat "$PC_REPO_ROOT/requirements-dev.txt"
        else
            pc_astrbot_requirement
        fi
    } | sha256sum | cut -d' ' -f1 | sed "s/^/$mode:/"
}

pc_setup_venv() {
    local mode="${1:-test}" py
    [[ "$mode" == "run" || "$mode" == "test" ]] || pc_die "pc_setup_venv: run or test, not $mode"
    if ! _pc_venv_ok; then
        if [[ -e "$PC_VENV" ]]; then
            [[ -w "$PC_VENV" ]] ||
                pc_die ".venv is not usable by this user and not writable, so it is left alone: $PC_VENV"
            pc_say "Existing .venv is broken or older than Python $PC_MIN_PY: recreating it"
            rm -rf -- "$PC_VENV"
        fi
        py="$(pc_find_python)"
        pc_say "Creating .venv with $py ($("$py" -c 'import platform; print(platform.python_version())'))"
        "$py" -m venv "$PC_VENV" ||
            pc_die "could not create .venv with $py (on Debian/Ubuntu install python3.X-venv)"
        _pc_venv_ok || pc_die ".venv was created but its Python does not work: $PC_VENV_PY"
    fi

    local want have=""
    want="$(_pc_deps_stamp "$mode")"
    [[ -f "$PC_STAMP" ]] && have="$(cat "$PC_STAMP")"
    if [[ "$have" == "$want" || ("$mode" == "run" && "$have" == "$(_pc_deps_stamp test)") ]]; then
        pc_say "Dependencies up to date (.venv, Python $("$PC_VENV_PY" -c 'import platform; print(platform.python_version())'))"
        return 0
    fi
    rm -f -- "$PC_STAMP"
    if [[ "$mode" == "run" ]]; then
        pc_say "Installing requirements.txt + $(pc_astrbot_requirement) into .venv (first time takes a few minutes)"
        _pc_quiet_pip install -q --disable-pip-version-check \
            -r "$PC_REPO_ROOT/requirements.txt" "$(pc_astrbot_requirement)" ||
            pc_die "pip install failed (see the output above)"
    else
        pc_say "Installing requirements-dev.txt + requirements.txt into .venv (first time takes a few minutes)"
        _pc_quiet_pip install -q --disable-pip-version-check \
            -r "$PC_REPO_ROOT/requirements-dev.txt" -r "$PC_REPO_ROOT/requirements.txt" ||
            pc_die "pip install failed (see the output above)"
    fi
    echo "$want" >"$PC_STAMP"
}
