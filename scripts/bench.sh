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
#        scripts/bench.sh scale [ITERATIONS]       (default 3 cycles per size)
#
# scale is issue 15's growth check (BenchmarkScale): steady-state check
# cycles over 250, 500 and 1,000 streamable HTTP servers × 100 tools and
# 100 stdio servers × 20 tools against bare go-sdk listing of the same
# servers, interleaved; it prints the median times, the ratio and the
# process's peak RSS per size. It needs a few GiB of memory and minutes
# per size; on a shared machine the numbers are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
# rss runs `mcpdrift check` as its own process against SERVERS (default
# 1,000) HTTP servers × 100 tools served by another process
# (TestScaleFarm), and prints its wall time and peak RSS (/usr/bin/time):
# one check to record baselines, then two steady-state checks.
#
# Usage: scripts/bench.sh rss [SERVERS]
if [ "${1:-}" = rss ]; then
  servers=${2:-1000}
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  go build -o "$dir/mcpdrift" ./cmd/mcpdrift
  go test -c -o "$dir/e2e.test" ./internal/e2e/
  mkfifo "$dir/stdin"
  SCALE_SERVERS=$servers SCALE_TOOLS=100 SCALE_FARM_CONFIG="$dir/cfg.yaml" SCALE_FARM_DB="$dir/db" \
    "$dir/e2e.test" -test.run '^TestScaleFarm$' -test.timeout 60m <"$dir/stdin" >"$dir/farm.log" 2>&1 &
  farm=$!
  exec 3>"$dir/stdin" # the farm serves until this closes
  while [ ! -e "$dir/cfg.yaml" ]; do
    kill -0 "$farm" 2>/dev/null || { cat "$dir/farm.log"; exit 1; }
    sleep 0.2
  done
  for run in baselines steady steady; do
    printf '%s, %s servers x 100 tools: ' "$run" "$servers"
    /usr/bin/time -f '%e s wall, peak RSS %M KiB' "$dir/mcpdrift" --config "$dir/cfg.yaml" check >/dev/null 2>"$dir/time.log" || true
    tail -2 "$dir/time.log" | paste -sd " " -
  done
  exec 3>&-
  wait "$farm"
  exit 0
fi
if [ "${1:-}" = scale ]; then
  iterations=${2:-3}
  printf '%-26s %12s %12s %7s %14s\n' "servers" "check ms" "go-sdk ms" "ratio" "peak RSS MiB"
  for size in "http 250 100" "http 500 100" "http 1000 100" "stdio 100 20"; do
    set -- $size
    out=$(SCALE_TRANSPORT=$1 SCALE_SERVERS=$2 SCALE_TOOLS=$3 go test -run '^$' -bench '^BenchmarkScale$' \
      -benchtime "${iterations}x" -timeout 60m ./internal/e2e/)
    echo "$out" | awk -v label="$2 $1 x $3 tools" '
      function metric(name,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == name) return $i; return "" }
      /^BenchmarkScale/ { printf "%-26s %12.0f %12.0f %7.3f %14.0f\n", label, metric("mcpdrift-ms"), metric("gosdk-ms"), metric("ratio"), metric("process-maxrss-MiB"); found = 1 }
      END { if (!found) { print label ": no benchmark result"; exit 1 } }'
  done
  exit 0
fi
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
