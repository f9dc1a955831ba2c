#!/usr/bin/env bash
# Runs every test of the repository on a fresh machine with the .NET SDK: installs and starts a
# throw-away PostgreSQL on 127.0.0.1 when it can (root), runs `dotnet test` on the solution, stops
# what it started, and prints one line "N passed, N failed". Exit code is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

log() { echo "[test] $*" >&2; }
started_pg=""
pg_stop() {
  if [ -n "$started_pg" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -w -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDATA"
  fi
}
trap pg_stop EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

if [ -z "${CAIRN_TEST_POSTGRES:-}" ] && [ "$(id -u)" = "0" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "installing PostgreSQL (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
  fi
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGDATA=$(mktemp -d /tmp/cairn-test-pg.XXXXXX)
  chown postgres:postgres "$PGDATA"; chmod 700 "$PGDATA"
  PGPORT=$(free_port)
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
    -o "-k /tmp -h 127.0.0.1 -p $PGPORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
  started_pg=1
  export CAIRN_TEST_POSTGRES="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres"
  log "PostgreSQL on 127.0.0.1:$PGPORT"
fi
[ -n "${CAIRN_TEST_POSTGRES:-}" ] || log "no PostgreSQL (not root and CAIRN_TEST_POSTGRES unset): PostgreSQL tests return early"

# Figures (ScottPlot) render text with the DejaVu fonts of the base image; install them if absent.
if [ ! -d /usr/share/fonts/truetype/dejavu ] && [ "$(id -u)" = "0" ]; then
  log "installing fonts-dejavu-core (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq fonts-dejavu-core >/dev/null
fi

# The web UI's browser tests drive Debian's Chromium; they fail without it when CI is set.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ]; then
  log "installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || log "no /usr/bin/chromium: browser tests return early (or fail when CI is set)"

out=$(mktemp)
# One test project at a time (-m:1): the browser and multi-process tests time real work, and on a
# 2-core machine running every project at once starves them.
dotnet test Cairn.slnx -m:1 "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

passed=0; failed=0
while read -r f p; do passed=$((passed + p)); failed=$((failed + f)); done < <(
  grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$out" | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+).*/\1 \2/')
rm -f "$out"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; log "dotnet test exited with $rc"; fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
