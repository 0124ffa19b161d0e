#!/usr/bin/env bash
# Lint, then run the test suite. Arguments go to pytest:
#
#   bash scripts/test.sh                       # everything: ruff + all test layers
#   bash scripts/test.sh tests/unit -k quiet   # a subset
#   SKIP_LINT=1 bash scripts/test.sh tests/unit   # skip ruff and mypy
#
# Exit code: pytest's (5 = no tests collected counts as a failure); 1 if only ruff or mypy failed.
#
# Browser tests use Debian's Chromium (/usr/bin/chromium), installed here if missing and only
# when browser tests will run (no path given, or tests/ or tests/browser named; not when
# `-m "not browser"` leaves them out).
# Screenshots and other artifacts go to test-artifacts/ (git-ignored).

# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

CHROMIUM="/usr/bin/chromium"

ensure_chromium() {
    # CJK fonts: the screenshots the browser tests save show the Chinese UI as text.
    [[ -x "$CHROMIUM" && -d /usr/share/fonts/truetype/wqy ]] && return 0
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo)
        else
            pc_die "$CHROMIUM is missing and this user cannot install it (not root, no sudo).
  Install it once as root: apt-get update && apt-get install -y chromium"
        fi
    fi
    command -v apt-get >/dev/null 2>&1 ||
        pc_die "$CHROMIUM is missing and apt-get is not available; install Chromium so that $CHROMIUM exists"
    pc_say "Installing Chromium and a CJK font from Debian for the browser tests"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        pc_die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null ||
        pc_die "apt-get install chromium failed"
    [[ -x "$CHROMIUM" ]] || pc_die "chromium was installed but $CHROMIUM does not exist"
}

# mypy names modules after the folders that hold an __init__.py, so the plugin folder's own
# name must be a valid package name, and it resolves links; a clone may sit in any folder
# ("wt-2", "repo.git"): check a copy of the sources in a folder named as AstrBot names the
# plugin. Its messages name files relative to the repo root all the same.
run_mypy() {
    local work status=0
    work="$(mktemp -d)"
    mkdir "$work/astrbot_plugin_proactive_chat"
    (cd "$PC_REPO_ROOT" && cp -r __init__.py main.py panel.py core web "$work/astrbot_plugin_proactive_chat/")
    (
        cd "$work/astrbot_plugin_proactive_chat" &&
            "$PC_VENV/bin/mypy" --python-executable "$PC_VENV_PY" \
                --config-file "$PC_REPO_ROOT/pyproject.toml" \
                --cache-dir "$PC_REPO_ROOT/.mypy_cache" \
                main.py panel.py core web
    ) || status=$?
    rm -rf "$work"
    return "$status"
}

# True unless the arguments leave tests/browser out: paths that are neither tests/ nor under
# tests/browser, or a marker expression "not browser". Other -k/-m filters are not read.
browser_tests_will_run() {
    local arg paths=0 browser=0
    for arg in "$@"; do
        [[ "$arg" == *"not browser"* ]] && return 1
        [[ "$arg" == -* ]] && continue
        [[ -e "${arg%%::*}" ]] || continue # a -k or -m value, not a path
        paths=1
        case "$(realpath --relative-to="$PC_REPO_ROOT" "${arg%%::*}")" in
        . | tests | tests/browser | tests/browser/*) browser=1 ;;
        esac
    done
    ((paths == 0 || browser == 1))
}

pc_setup_venv test
cd "$PC_REPO_ROOT"
if browser_tests_will_run "$@"; then
    ensure_chromium
fi

export PC_CHROMIUM="$CHROMIUM"
export PC_ARTIFACTS="$PC_REPO_ROOT/test-artifacts"
mkdir -p "$PC_ARTIFACTS"

# Lint failures do not stop pytest (one run shows everything), but they fail the command.
lint_failed=0
if [[ "${SKIP_LINT:-}" != "1" ]]; then
    pc_say "ruff check ."
    if ! "$PC_VENV/bin/ruff" check --quiet .; then
        pc_warn "ruff check failed (many fix themselves: .venv/bin/ruff check --fix .)"
        lint_failed=1
    fi
    pc_say "ruff format --check ."
    if ! "$PC_VENV/bin/ruff" format --check --quiet .; then
        pc_warn "ruff format --check failed (fix: .venv/bin/ruff format .)"
        lint_failed=1
    fi
    pc_say "mypy main.py panel.py core web"
    if ! run_mypy; then
        pc_warn "mypy found type errors (see above)"
        lint_failed=1
    fi
fi

pc_say "pytest $*"
status=0
"$PC_VENV_PY" -m pytest "$@" || status=$?
if [[ "$status" -eq 5 ]]; then
    printf 'error: pytest collected no tests (exit 5); check the paths and -k/-m filters\n' >&2
fi
if [[ "$status" -eq 0 && "$lint_failed" -eq 1 ]]; then
    printf 'error: tests passed but ruff or mypy failed (see above)\n' >&2
    status=1
fi
exit "$status"
