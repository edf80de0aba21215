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
#        scripts/bench.sh real [ROUNDS [SIZES...]] (see below)
#
# scale is issue 15's growth check (BenchmarkScale): steady-state check
# cycles over 250, 500 and 1,000 streamable HTTP servers × 100 tools and
# 100 stdio servers × 20 tools against bare go-sdk listing of the same
# servers, interleaved; it prints the median times, the ratio and the
# process's peak RSS per size. It needs a few GiB of memory and minutes
# per size; on a shared machine the numbers are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
# real is issue 15's benchmark at real size with separate processes:
# for each size, another process serves the servers (TestScaleFarm:
# streamable HTTP servers, or the commands of go-sdk stdio servers), and
# ROUNDS times, in alternating order, the same run times
#   - bare go-sdk listing of every server (TestBareListFarm, a process),
#   - `mcpdrift check` (a process: config, database, probe, store, lint,
#     compare), steady state,
# then starts `mcpdrift run` (the daemon) and times ROUNDS daemon rounds
# (`mcpdrift check` through its admin socket: every server checked by the
# daemon's own path) against bare listing again. It prints the medians,
# min-max, the ratios to bare listing and peak RSS (check: /usr/bin/time;
# daemon: VmHWM, its start-up round included). Sizes default to issue 15's:
# http:250:100 http:500:100 http:1000:100 stdio:100:20. BENCH_GOMEMLIMIT,
# when set, is the GOMEMLIMIT of the mcpdrift processes only (not of the
# servers nor the bare lister), to measure a soft memory limit's effect.
#
# Usage: scripts/bench.sh real [ROUNDS [TRANSPORT:SERVERS:TOOLS...]]   (default 3 rounds)
if [ "${1:-}" = real ]; then
  rounds=${2:-3}
  shift $(( $# >= 2 ? 2 : $# ))
  sizes=("$@")
  [ ${#sizes[@]} -gt 0 ] || sizes=(http:250:100 http:500:100 http:1000:100 stdio:100:20)
  dir=$(mktemp -d)
  farm=""
  daemon=""
  cleanup() {
    [ -z "$daemon" ] || kill "$daemon" 2>/dev/null || true
    exec 3>&- 2>/dev/null || true
    [ -z "$farm" ] || wait "$farm" 2>/dev/null || true
    rm -rf "$dir"
  }
  trap cleanup EXIT
  go build -o "$dir/mcpdrift" ./cmd/mcpdrift
  go test -c -o "$dir/e2e.test" ./internal/e2e/
  if [ -n "${BENCH_GOMEMLIMIT:-}" ]; then
    mv "$dir/mcpdrift" "$dir/mcpdrift.bin"
    printf '#!/bin/sh\nGOMEMLIMIT=%s exec "%s" "$@"\n' "$BENCH_GOMEMLIMIT" "$dir/mcpdrift.bin" >"$dir/mcpdrift"
    chmod +x "$dir/mcpdrift"
  fi
  now() { date +%s%N; }
  # stats NAME VALUES...: median, min and max of integer values.
  stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%d %d %d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
  bare() { # prints elapsed ms and peak RSS KiB
    local t0 t1
    t0=$(now)
    SCALE_FARM_CONFIG="$dir/cfg.yaml" SCALE_BARE_LIST=1 /usr/bin/time -f '%M' -o "$dir/bare.rss" \
      "$dir/e2e.test" -test.run '^TestBareListFarm$' -test.count 1 >"$dir/bare.log" 2>&1 \
      || { cat "$dir/bare.log" >&2; exit 1; }
    t1=$(now)
    echo "$(( (t1 - t0) / 1000000 )) $(tail -1 "$dir/bare.rss")"
  }
  check() { # prints elapsed ms and peak RSS KiB of the mcpdrift check process
    local t0 t1
    t0=$(now)
    local rc=0
    /usr/bin/time -f '%M' -o "$dir/check.rss" "$dir/mcpdrift" --config "$dir/cfg.yaml" check >"$dir/check.out" 2>"$dir/check.log" || rc=$?
    t1=$(now)
    if [ "$rc" != 0 ]; then
      echo "check exited $rc:" >&2; grep -v ' ok ' "$dir/check.out" | head -20 >&2; tail -5 "$dir/check.log" >&2; exit 1
    fi
    echo "$(( (t1 - t0) / 1000000 )) $(tail -1 "$dir/check.rss")"
  }
  printf '%-22s %-8s %22s %22s %7s %9s\n' "servers" "what" "ms median (min-max)" "bare ms median (min-max)" "ratio" "peak RSS"
  for size in "${sizes[@]}"; do
    IFS=: read -r transport servers tools <<<"$size"
    label="$servers $transport x $tools"
    rm -rf "$dir/db" "$dir/db.sock" "$dir/cfg.yaml"* "$dir/stdin"
    mkfifo "$dir/stdin"
    SCALE_TRANSPORT=$transport SCALE_SERVERS=$servers SCALE_TOOLS=$tools SCALE_FARM_CONFIG="$dir/cfg.yaml" SCALE_FARM_DB="$dir/db" \
      "$dir/e2e.test" -test.run '^TestScaleFarm$' -test.timeout 60m <"$dir/stdin" >"$dir/farm.log" 2>&1 &
    farm=$!
    exec 3>"$dir/stdin" # the farm serves until this closes
    while [ ! -e "$dir/cfg.yaml" ]; do
      kill -0 "$farm" 2>/dev/null || { cat "$dir/farm.log"; exit 1; }
      sleep 0.2
    done
    read -r ms rss < <(check)
    printf '%-22s %-8s %22s %22s %7s %6d MiB\n' "$label" "baseline" "$ms" "" "" $((rss / 1024))
    cm=() bm=() crss=0 brss=0
    for r in $(seq "$rounds"); do
      if (( r % 2 )); then read -r b1 b2 < <(bare); read -r c1 c2 < <(check)
      else read -r c1 c2 < <(check); read -r b1 b2 < <(bare); fi
      bm+=("$b1") cm+=("$c1"); crss=$(( c2 > crss ? c2 : crss )); brss=$(( b2 > brss ? b2 : brss ))
    done
    read -r bmed bmin bmax < <(stats "${bm[@]}")
    read -r cmed cmin cmax < <(stats "${cm[@]}")
    printf '%-22s %-8s %22s %22s %7.2f %6d MiB   (bare go-sdk process: %d MiB)\n' "$label" "check" "$cmed ($cmin-$cmax)" "$bmed ($bmin-$bmax)" \
      "$(awk -v a="$cmed" -v b="$bmed" 'BEGIN { print a / b }')" $((crss / 1024)) $((brss / 1024))
    # The daemon: its start-up round, then ROUNDS rounds asked through
    # its admin socket, each against bare listing in the same run.
    root=()
    [ "$(id -u)" != 0 ] || root=(--allow-root) # stdio servers here are this benchmark's own
    "$dir/mcpdrift" --config "$dir/cfg.yaml" run "${root[@]}" >"$dir/daemon.log" 2>&1 &
    daemon=$!
    # Only the socket is polled: a CLI command would open the database
    # itself until the daemon holds it, and keep the daemon from starting.
    until [ -S "$dir/db.sock" ]; do
      kill -0 "$daemon" 2>/dev/null || { tail -20 "$dir/daemon.log"; exit 1; }
      sleep 0.2
    done
    check >/dev/null # waits for the start-up round's servers as it goes
    dm=() bm=()
    for r in $(seq "$rounds"); do
      if (( r % 2 )); then read -r b1 _ < <(bare); read -r d1 _ < <(check)
      else read -r d1 _ < <(check); read -r b1 _ < <(bare); fi
      bm+=("$b1") dm+=("$d1")
    done
    drss=$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon/status")
    kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=""
    read -r bmed bmin bmax < <(stats "${bm[@]}")
    read -r dmed dmin dmax < <(stats "${dm[@]}")
    printf '%-22s %-8s %22s %22s %7.2f %6d MiB\n' "$label" "daemon" "$dmed ($dmin-$dmax)" "$bmed ($bmin-$bmax)" \
      "$(awk -v a="$dmed" -v b="$bmed" 'BEGIN { print a / b }')" $((drss / 1024))
    exec 3>&-
    wait "$farm" 2>/dev/null || true
    farm=""
  done
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
