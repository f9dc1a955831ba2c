#!/usr/bin/env bash
# Builds Cairn (Release), starts a fresh `cairn server` in a temp dir, runs the C# REST bench
# (bench/Cairn.Bench.Rest) and the shared Python bench (../shared/bench/bench_rest.py, the same
# client that measured MLflow 2.17.2) against it, prints both JSON lines on stdout, stops the
# server. Each client gets its own fresh server and empty database, so neither measures the
# other's leftovers. Progress and server logs go to stderr.
#
#   bench/run-rest.sh [--postgres CONNSTRING] [--scale X] [--phases abcdef[g]] [--label TEXT]
#                     [--clients cs,py] [--repeat N] [--skip-build] [--keep]
#
#   --postgres CONNSTRING  run against PostgreSQL, e.g. "Host=127.0.0.1;Port=5544;Username=postgres";
#                          a fresh database bench_<timestamp> is created (and dropped afterwards
#                          unless --keep) for every server start.
#   --scale X              passed to both clients (default 1.0)
#   --phases P             phases for the C# bench (a..g, default abcdef); the Python bench gets
#                          the same letters minus g (it has no phase g)
#   --clients LIST         cs, py or cs,py (default cs,py)
#   --repeat N             run each client N times, each on a fresh server (default 1)
#   --skip-build           use the existing Release builds
#   --keep                 keep the temp dir (server log, database) and the PostgreSQL databases
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYBENCH="${PYBENCH:-$ROOT/../shared/bench/bench_rest.py}"
PG=""; SCALE="1.0"; PHASES="abcdef"; LABEL=""; CLIENTS="cs,py"; REPEAT=1; BUILD=1; KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --postgres) PG="$2"; shift 2 ;;
    --scale) SCALE="$2"; shift 2 ;;
    --phases) PHASES="$(tr -cd 'a-g' <<<"$2")"; shift 2 ;;
    --label) LABEL="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --skip-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done

log() { echo "[run-rest $(date +%H:%M:%S)] $*" >&2; }

source "$ROOT/bench/lib.sh"

cd "$ROOT"
if [[ $BUILD == 1 ]]; then
  log "building Cairn (Release)"; build src/Cairn.Cli
  log "building bench/Cairn.Bench.Rest (Release)"; build bench/Cairn.Bench.Rest
fi
CAIRN_DLL="$ROOT/src/Cairn.Cli/bin/Release/net10.0/linux-x64/cairn.dll"
BENCH_DLL="$ROOT/bench/Cairn.Bench.Rest/bin/Release/net10.0/Cairn.Bench.Rest.dll"
[[ -f $CAIRN_DLL ]] || { echo "missing $CAIRN_DLL (drop --skip-build)" >&2; exit 1; }
[[ -f $BENCH_DLL ]] || { echo "missing $BENCH_DLL (drop --skip-build)" >&2; exit 1; }

# PostgreSQL: host/port/user for psql from the Npgsql connection string.
pg_field() { # pg_field Key default
  local v
  v="$(tr ';' '\n' <<<"$PG" | awk -F= -v k="$1" 'tolower($1)==tolower(k) {sub(/^[^=]*=/, ""); print; exit}')"
  echo "${v:-$2}"
}
if [[ -n $PG ]]; then
  PGH="$(pg_field Host 127.0.0.1)"; PGP="$(pg_field Port 5432)"
  PGU="$(pg_field Username "$(pg_field 'User ID' postgres)")"; PGW="$(pg_field Password '')"
  export PGPASSWORD="$PGW"
fi

TMP="$(mktemp -d /tmp/cairn-bench-rest.XXXXXX)"
SERVER_PID=""; DBS=()
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  stop_server
  if [[ $KEEP == 0 ]]; then
    for db in "${DBS[@]}"; do psql -h "$PGH" -p "$PGP" -U "$PGU" -q -c "drop database if exists $db" postgres >/dev/null 2>&1 || true; done
    rm -rf "$TMP"
  else
    log "kept $TMP ${DBS[*]}"
  fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start_server NAME: fresh store (SQLite file or new PostgreSQL database) and artifact dir.
start_server() {
  local dir="$TMP/$1" store port
  mkdir -p "$dir"
  if [[ -n $PG ]]; then
    local db="bench_$(date +%Y%m%d_%H%M%S)_$RANDOM"
    psql -h "$PGH" -p "$PGP" -U "$PGU" -q -c "create database $db" postgres >&2
    DBS+=("$db")
    store="$(sed 's/;*$//' <<<"$PG");Database=$db"
  else
    store="sqlite:///$dir/b.db"
  fi
  port="$(free_port)"
  URL="http://127.0.0.1:$port"
  ( cd "$dir" && exec dotnet "$CAIRN_DLL" server --port "$port" --backend-store-uri "$store" \
      --artifacts-destination "$dir/a" ) >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    if curl -fsS "$URL/health" >/dev/null 2>&1; then
      log "server pid $SERVER_PID on $URL (store: ${PG:+postgres }${store##*/})"; return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "server did not start; log:"; cat "$dir/server.log" >&2; exit 1
}

BACKEND="sqlite"; [[ -n $PG ]] && BACKEND="postgres"
STATUS=0
for rep in $(seq "$REPEAT"); do
  if [[ ",$CLIENTS," == *",cs,"* ]]; then
    start_server "cs-$rep"
    log "C# bench (phases $PHASES, scale $SCALE), run $rep/$REPEAT"
    dotnet "$BENCH_DLL" --url "$URL" --label "cairn $BACKEND cs-client ${LABEL}" --scale "$SCALE" \
      --phases "$PHASES" --server-pid "$SERVER_PID" || STATUS=$?
    stop_server
  fi
  if [[ ",$CLIENTS," == *",py,"* ]]; then
    PYPHASES="$(tr -d 'g' <<<"$PHASES")"
    if [[ -n $PYPHASES ]]; then
      start_server "py-$rep"
      log "Python bench_rest.py (phases $PYPHASES, scale $SCALE), run $rep/$REPEAT"
      # bench_rest.py prints one JSON line; add the server's peak RSS (VmHWM) to it, labelled.
      line="$(python3 "$PYBENCH" "$URL" --label "cairn $BACKEND py-client ${LABEL}" --scale "$SCALE" \
        --phases "$PYPHASES")" || STATUS=$?
      hwm="$(awk '/^VmHWM:/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status" 2>/dev/null || true)"
      [[ -n $line ]] && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["server_vmhwm_mib_added_by_run_rest"]=float(sys.argv[2]) if sys.argv[2] else None; print(json.dumps(d,separators=(",",":")))' \
        "$line" "$hwm"
      stop_server
    fi
  fi
done
exit $STATUS
