#!/usr/bin/env bash
# The README demo: mcpdrift monitors its bundled demo MCP server, takes a
# first snapshot (trusted on first use), sees the server pull the rug, and
# reports the drift. Needs only Go. Run from anywhere; works in a scratch
# directory .demo/ at the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Build"
run go build -o bin/mcpdrift ./cmd/mcpdrift
export MCPDRIFT_CONFIG=configs/demo.yaml
rm -rf .demo && mkdir -p .demo
./bin/mcpdrift demo-server set clean --state .demo/state >/dev/null

step "1. Validate the config"
run ./bin/mcpdrift config check

step "2. First snapshot: stored and trusted on first use"
run ./bin/mcpdrift check
run ./bin/mcpdrift status

step "3. The stored manifest (first lines)"
./bin/mcpdrift show demo | head -n 25
echo "..."

step "4. The server changes its tools behind your back (rug pull)"
run ./bin/mcpdrift demo-server set rugpull --state .demo/state

step "5. Check again: drift, and exit status 1"
set +e
./bin/mcpdrift check
code=$?
set -e
echo "(exit status $code)"

step "6. History"
run ./bin/mcpdrift history demo

printf '\nDemo database kept in .demo/ (remove it with: rm -rf .demo)\n'
