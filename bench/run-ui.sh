#!/usr/bin/env bash
# Builds Cairn and the UI bench (Release), then runs bench/Cairn.Bench.Ui: it starts a fresh
# `cairn server` (SQLite, temp dir), seeds one experiment with N runs plus one run with a
# 1,000,000-point metric history through the REST API, and times the web UI in Debian's headless
# Chromium (runs table first paint, filter, sort, the long metric chart; 5 times each). Prints one
# JSON line on stdout; progress goes to stderr.
#
#   bench/run-ui.sh [--runs N] [--skip-build] [other Cairn.Bench.Ui options, e.g. --repeat 5 --keep]
#
#   --runs N        runs in the experiment (default 100000)
#   --skip-build    use the existing Release builds
#   anything else is passed to the bench (--points, --clients, --repeat, --url, --label, --keep)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD=1; ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

log() { echo "[run-ui $(date +%H:%M:%S)] $*" >&2; }

source "$ROOT/bench/lib.sh"

cd "$ROOT"
if [[ $BUILD == 1 ]]; then
  log "building Cairn (Release)"; build src/Cairn.Cli
  log "building bench/Cairn.Bench.Ui (Release)"; build bench/Cairn.Bench.Ui
fi
CAIRN_DLL="$ROOT/src/Cairn.Cli/bin/Release/net10.0/linux-x64/cairn.dll"
BENCH_DLL="$ROOT/bench/Cairn.Bench.Ui/bin/Release/net10.0/Cairn.Bench.Ui.dll"
[[ -f $CAIRN_DLL ]] || { echo "missing $CAIRN_DLL (drop --skip-build)" >&2; exit 1; }
[[ -f $BENCH_DLL ]] || { echo "missing $BENCH_DLL (drop --skip-build)" >&2; exit 1; }
[[ -x /usr/bin/chromium ]] || { echo "missing /usr/bin/chromium (apt-get install -y chromium)" >&2; exit 1; }

log "running the UI bench"
exec dotnet "$BENCH_DLL" --cairn-dll "$CAIRN_DLL" "${ARGS[@]}"
