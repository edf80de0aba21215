#!/usr/bin/env bash
# Measures one full `mcpdrift check` cycle over 50 loopback MCP servers
# (probe, canonicalize, store, compare, lint) against bare go-sdk listing of
# the same servers in the same run (BenchmarkCycle50 in internal/e2e).
# Each of COUNT runs interleaves the variants over ITERATIONS cycles and
# reports their median cycle times and the ratio mcpdrift / go-sdk; this
# script prints every run and the median ratio over the runs.
# Target: ratio at most 1.10.
#
# Usage: scripts/bench.sh [COUNT [ITERATIONS]]   (default 5 runs of 20 cycles)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
iterations=${2:-20}
out=$(go test -run '^$' -bench '^BenchmarkCycle50$' -benchtime "${iterations}x" -count "$count" ./internal/e2e/)
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
  function metric(name,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == name) return $i; return "" }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  /^BenchmarkCycle50/ {
    n++; g[n] = metric("gosdk-ms"); k[n] = metric("gosdk-keepalive-ms"); m[n] = metric("mcpdrift-ms")
    r[n] = metric("ratio"); rk[n] = metric("ratio-keepalive")
  }
  END {
    if (!n) { print "no benchmark results"; exit 1 }
    printf "median over %d runs: go-sdk %.1f ms, mcpdrift check %.1f ms per 50-server cycle: ratio %.3f (target <= 1.10)\n", n, median(g, n), median(m, n), median(r, n)
    printf "for reference, go-sdk keeping its connections across cycles: %.1f ms, ratio %.3f\n", median(k, n), median(rk, n)
  }'
