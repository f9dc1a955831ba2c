# Shared by the bench/run-*.sh scripts; each defines log() before sourcing this file.

# dotnet build -c Release, retried: other engineers build on this machine and a file lock fails a build.
build() {
  local i
  for i in 1 2 3 4; do
    if dotnet build "$@" -c Release --nologo -v q >&2; then return 0; fi
    log "build of $1 failed (attempt $i), retrying in 10 s"; sleep 10
  done
  return 1
}
