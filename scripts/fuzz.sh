#!/usr/bin/env bash
# Runs every fuzz target of the module, one after the other, for DURATION
# each (default 30s). New failing inputs land in the package's
# testdata/fuzz/<Target>/ and then run with every `go test` as regression
# seeds. Usage: scripts/fuzz.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30s}
status=0
while IFS=: read -r file target; do
	pkg=./$(dirname "$file")
	echo "== $pkg $target ($duration)"
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" "$pkg"; then
		status=1
	fi
done < <(grep -r -o -E --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' internal store notifiers cmd | sed -E 's/:func /:/')
exit $status
