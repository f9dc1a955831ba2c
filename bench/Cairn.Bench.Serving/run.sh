#!/usr/bin/env bash
# Serving benchmark: writes an iris model package, serves it with a Release `cairn models serve`,
# and runs bench/Cairn.Bench.Serving against it. Prints the benchmark's JSON line on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT="${PORT:-5081}"
WORK="$(mktemp -d)"
trap 'if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
dotnet build -c Release src/Cairn.Cli -v q -nologo >&2
dotnet build -c Release bench/Cairn.Bench.Serving -v q -nologo >&2
BENCH=bench/Cairn.Bench.Serving/bin/Release/net10.0/linux-x64/Cairn.Bench.Serving
"$BENCH" --save-iris "$WORK/iris"
dotnet src/Cairn.Cli/bin/Release/net10.0/linux-x64/cairn.dll models serve -m "$WORK/iris" -p "$PORT" >&2 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/ping" >/dev/null && break; sleep 0.1; done
"$BENCH" --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" "$@"
