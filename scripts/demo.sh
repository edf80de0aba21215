#!/usr/bin/env bash
# The README demo: mcpdrift monitors its bundled demo MCP server. It takes
# a first snapshot (trusted on first use), runs the daemon, watches the
# server pull the rug, shows the drift and the alert, and approves it.
# Needs only Go. Works in a scratch directory .demo/ at the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# wait_for PATTERN FILE: poll a log for a line, 20 s at most.
wait_for() {
  for _ in $(seq 1 200); do
    grep -q "$1" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$1' in $2" >&2
  cat "$2" >&2
  return 1
}

step "Build"
# Stamped like `make build` (scripts/stamp.sh): version, commit, commit date.
run go build -trimpath -ldflags "$(scripts/stamp.sh ldflags)" -o bin/mcpdrift ./cmd/mcpdrift
run ./bin/mcpdrift version
export MCPDRIFT_CONFIG=configs/demo.yaml
[ "$(id -u)" = 0 ] && export MCPDRIFT_ALLOW_ROOT=1   # demo only: never run the daemon as root for real
rm -rf .demo && mkdir -p .demo
./bin/mcpdrift demo-server set clean --state .demo/state >/dev/null

step "1. Validate the config"
run ./bin/mcpdrift config check

step "2. First snapshot: stored and trusted on first use"
run ./bin/mcpdrift check
./bin/mcpdrift show demo | head -n 12
echo "  ... ('mcpdrift show demo' prints the whole canonical manifest)"

step "3. Start the daemon (log in .demo/daemon.log)"
./bin/mcpdrift run > .demo/daemon.log 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
wait_for 'msg=snapshot' .demo/daemon.log
run ./bin/mcpdrift status

step "4. The server changes its tools behind your back (rug pull)"
run ./bin/mcpdrift demo-server set rugpull --state .demo/state

step "5. The daemon sees list_changed, snapshots, and alerts"
wait_for 'kind=drift' .demo/daemon.log
grep 'kind=drift' .demo/daemon.log | head -n 1

step "6. The drift, as a reviewer reads it (exit status 1)"
set +e
./bin/mcpdrift diff demo
echo "(exit status $?)"
set -e

step "7. Approve what was reviewed: the alert resolves"
# diff exits 1 while drift is pending; the last "id" in its JSON is the snapshot's.
report=$(./bin/mcpdrift diff demo --format json || true)
snap=$(printf '%s\n' "$report" | sed -n 's/.*"id": "\(sha256:[0-9a-f]*\)".*/\1/p' | tail -n 1)
run ./bin/mcpdrift approve demo --snapshot "${snap:0:19}" --comment "demo: reviewed the rug pull"
wait_for 'kind=resolved' .demo/daemon.log
grep 'kind=resolved' .demo/daemon.log | head -n 1
run ./bin/mcpdrift history demo

step "Stop the daemon"
kill "$daemon"; wait "$daemon" 2>/dev/null || true
trap - EXIT
printf '\nDemo database and daemon log kept in .demo/ (remove with: rm -rf .demo)\n'
