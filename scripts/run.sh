#!/usr/bin/env bash
# Run a local AstrBot with this plugin linked in, in the foreground (Ctrl+C stops it).
#
#   bash scripts/run.sh                    # dashboard on 127.0.0.1:6185, panel on 127.0.0.1:4100
#   DASHBOARD_PORT=6200 bash scripts/run.sh
#   bash scripts/run.sh --reset-password   # extra arguments go to `astrbot run`
#
# The AstrBot root is .astrbot-dev/ in the repo (git-ignored); delete it to start fresh.

# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

PLUGIN_NAME="astrbot_plugin_proactive_chat"
DEV_ROOT="$PC_REPO_ROOT/.astrbot-dev"
PLUGIN_LINK="$DEV_ROOT/data/plugins/$PLUGIN_NAME"

# Only what running needs (requirements.txt + AstrBot); the test toolchain is scripts/test.sh's.
pc_setup_venv run

if [[ ! -e "$DEV_ROOT/.astrbot" ]]; then
    pc_say "Creating the local AstrBot root in .astrbot-dev/"
    mkdir -p "$DEV_ROOT"
    # `astrbot init` uses the current directory as the root.
    (cd "$DEV_ROOT" && "$PC_VENV/bin/astrbot" init --yes >/dev/null) ||
        pc_die "astrbot init failed in $DEV_ROOT"
fi
mkdir -p "$DEV_ROOT/data/plugins"

if [[ -L "$PLUGIN_LINK" ]]; then
    ln -sfn "$PC_REPO_ROOT" "$PLUGIN_LINK"
elif [[ -e "$PLUGIN_LINK" ]]; then
    pc_die "$PLUGIN_LINK exists and is not a symlink; move it away so the repo can be linked there"
else
    pc_say "Linking the plugin: .astrbot-dev/data/plugins/$PLUGIN_NAME -> $PC_REPO_ROOT"
    ln -s "$PC_REPO_ROOT" "$PLUGIN_LINK"
fi

# AstrBot's dashboard listens on 0.0.0.0 unless told otherwise: keep the dev instance local.
export DASHBOARD_HOST="${DASHBOARD_HOST:-127.0.0.1}"
export DASHBOARD_PORT="${DASHBOARD_PORT:-6185}"
export ASTRBOT_ROOT="$DEV_ROOT"

cat >&2 <<EOF
==> Starting AstrBot (root: .astrbot-dev/). Ctrl+C stops it.
    AstrBot dashboard: http://127.0.0.1:$DASHBOARD_PORT
        user "astrbot"; on a fresh root the log prints "Initial password: ..." once.
        Lost it? bash scripts/run.sh --reset-password
    Plugin admin panel: http://127.0.0.1:4100 (or the web_admin.port you configured)
        password: web_admin.password, or the generated one shown once in the log line
        that announces the panel.
EOF

# `astrbot run` takes its root from the current directory (it then sets ASTRBOT_ROOT itself).
cd "$DEV_ROOT"
exec "$PC_VENV/bin/astrbot" run "$@"
