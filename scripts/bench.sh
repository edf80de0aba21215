#!/usr/bin/env bash
# Measures one full `mcpdrift check` cycle over 50 loopback MCP servers
# (probe, canonicalize, store, compare) against bare go-sdk listing of the
# same servers in the same run, and prints the ratio of the medians.
# Target: at most 1.10. Usage: scripts/bench.sh [COUNT] (default 6).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-6}
out=$(go test -run '^$' -bench 'Cycle50' -benchtime 10x -count "$count" ./internal/e2e/)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  /^BenchmarkCycle50\/gosdk/    { g[++ng] = $3 }
  /^BenchmarkCycle50\/mcpdrift/ { m[++nm] = $3 }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    if (!ng || !nm) { print "no benchmark results"; exit 1 }
    gm = median(g, ng); mm = median(m, nm)
    printf "median cycle over 50 servers: go-sdk %.1f ms, mcpdrift check %.1f ms, ratio %.3f (target <= 1.10)\n", gm / 1e6, mm / 1e6, mm / gm
  }'
