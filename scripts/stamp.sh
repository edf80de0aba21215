#!/bin/sh
# The version stamp of this checkout, as `make build` computes it: the
# version is `git describe --tags --always --dirty`, the commit the full
# hash, the date the commit's (never the build time, so builds are
# reproducible). Outside a git checkout: dev, unknown, unknown.
#
#   scripts/stamp.sh              MCPDRIFT_VERSION=... lines (compose reads
#                                 them from deploy/docker/.env)
#   scripts/stamp.sh ldflags      -X flags for go build -ldflags
#   scripts/stamp.sh build-args   --build-arg flags for docker build
#
# Every build path uses it or the Makefile: scripts/demo.sh, the
# Dockerfiles' build commands, compose; deploy/build_test.go checks it.
set -eu
cd "$(dirname "$0")/.."

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
date=$(git log -1 --format=%cI 2>/dev/null || echo unknown)
pkg=github.com/mcpdrift/mcpdrift/internal/version

case ${1:-env} in
  env)
    printf 'MCPDRIFT_VERSION=%s\nMCPDRIFT_COMMIT=%s\nMCPDRIFT_DATE=%s\n' "$version" "$commit" "$date" ;;
  ldflags)
    printf -- '-X %s.Version=%s -X %s.Commit=%s -X %s.Date=%s\n' "$pkg" "$version" "$pkg" "$commit" "$pkg" "$date" ;;
  build-args)
    printf -- '--build-arg VERSION=%s --build-arg COMMIT=%s --build-arg DATE=%s\n' "$version" "$commit" "$date" ;;
  *)
    echo "usage: scripts/stamp.sh [env|ldflags|build-args]" >&2
    exit 2 ;;
esac
