#!/usr/bin/env bash
# Times `cairn train` on the pipeline issue's three workloads, each a fresh process on a fresh
# embedded store, and prints one JSON line: wall seconds and peak RSS (GNU time) per workload,
# with each workload's target and the ratio measured/target (< 1 meets it).
#
#   bench/run-pipelines.sh [--skip-build] [--rows N] [--only iris|breast_cancer|higgs]
#
# The HIGGS workload reads N (default 1,000,000) rows in the UCI HIGGS.csv.gz layout, made once by
# bench/pipelines/make_higgs_rows.py from ../shared/datasets/higgs_synthetic_10k.csv.gz and cached
# in ${XDG_CACHE_HOME:-~/.cache}/cairn-bench/. Progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
BUILD=1; ROWS=1000000; ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-build) BUILD=0; shift ;;
    --rows) ROWS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done

if [[ $BUILD -eq 1 ]]; then
  dotnet build -c Release "$ROOT/src/Cairn.Cli" -v q -nologo >&2
fi
CAIRN="$ROOT/src/Cairn.Cli/bin/Release/net10.0/linux-x64/cairn.dll"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cairn-bench"
HIGGS_DIR="$CACHE/higgs-$ROWS"
if [[ ( -z "$ONLY" || "$ONLY" == higgs ) && ! -f "$HIGGS_DIR/HIGGS.csv.gz" ]]; then
  mkdir -p "$HIGGS_DIR"
  echo "making $ROWS HIGGS-format rows in $HIGGS_DIR" >&2
  python3 "$ROOT/bench/pipelines/make_higgs_rows.py" "$SHARED/datasets/higgs_synthetic_10k.csv.gz" "$HIGGS_DIR/HIGGS.csv.gz.tmp" "$ROWS"
  mv "$HIGGS_DIR/HIGGS.csv.gz.tmp" "$HIGGS_DIR/HIGGS.csv.gz"
fi

results=()
# measure NAME TARGET_SECONDS TARGET_MIB ARGS...: one `cairn train` in its own folder (embedded store).
measure() {
  local name="$1" target="$2" target_mib="$3"; shift 3
  local dir="$WORK/$name"; mkdir -p "$dir"
  echo "== $name: cairn $*" >&2
  (cd "$dir" && /usr/bin/time -f "%e %M" -o "$dir/time.txt" dotnet "$CAIRN" "$@" > "$dir/out.txt" 2> "$dir/err.txt") || {
    echo "$name failed:" >&2; tail -20 "$dir/err.txt" >&2; exit 1; }
  tail -3 "$dir/out.txt" >&2
  read -r seconds kib < "$dir/time.txt"
  local mib=$(( kib / 1024 ))
  results+=("$(printf '"%s":{"seconds":%s,"target_seconds":%s,"ratio_to_target":%s,"peak_rss_mib":%s%s}' \
    "$name" "$seconds" "$target" "$(awk -v s="$seconds" -v t="$target" 'BEGIN{printf "%.3f", s/t}')" "$mib" \
    "$( [[ -n "$target_mib" ]] && printf ',"target_peak_rss_mib":%s' "$target_mib")")")
}

if [[ -z "$ONLY" || "$ONLY" == iris ]]; then
  measure iris_sample 15 "" train -f "$ROOT/samples/iris.yaml"
fi
if [[ -z "$ONLY" || "$ONLY" == breast_cancer ]]; then
  measure breast_cancer_tpe_50x5 60 "" train -f "$ROOT/bench/pipelines/breast_cancer_tpe.yaml"
fi
if [[ -z "$ONLY" || "$ONLY" == higgs ]]; then
  measure higgs_lightgbm_100 30 1536 train -f "$ROOT/bench/pipelines/higgs_1m.yaml" -l "$HIGGS_DIR" --rows "$ROWS"
fi

( IFS=,; echo "{\"bench\":\"pipelines\",\"rows\":$ROWS,\"cores\":$(nproc),${results[*]}}" )
