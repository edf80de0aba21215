#!/bin/sh
# mcpdrift in any CI: check the MCP servers a repository uses against its
# committed lockfile, write a report for the CI system, and exit with
# mcpdrift's status. See docs/ci.md.
#
#   MCPDRIFT_VERSION=<commit> deploy/ci/check.sh [extra check flags...]
#
# Environment (all optional, but one of the first two is needed when
# mcpdrift is not on PATH):
#   MCPDRIFT_VERSION  what to `go install`: a commit of mcpdrift (there are
#                     no release tags yet; go install records it as a
#                     pseudo-version, which `mcpdrift version` prints with
#                     its commit), `latest`, or a tag once there are tags
#   MCPDRIFT_SOURCE   a checkout of mcpdrift to build from instead
#                     (`make build`: version-stamped); needs make and git
#   neither           use the mcpdrift already on PATH
#   MCPDRIFT_CONFIG   config file          (default mcpdrift.yaml)
#   MCPDRIFT_LOCK     lockfile             (default mcp.lock.json)
#   MCPDRIFT_FORMAT   sarif, junit or json (default sarif)
#   MCPDRIFT_OUT      report file          (default mcpdrift.<format>)
#   MCPDRIFT_FAIL_ON  info, low, medium, high or critical (default low)
#   MCPDRIFT_VERIFY   1 to also fail on a lockfile edited by hand (default 1)
# Extra arguments go to `mcpdrift check`, e.g. --as claude-code/1.0+roots.
#
# Exit status is mcpdrift's: 0 no drift at or above MCPDRIFT_FAIL_ON,
# 1 drift or an unapproved server, 2 usage or config error, 3 a server
# could not be probed, 4 mcpdrift failed.
set -eu

config=${MCPDRIFT_CONFIG:-mcpdrift.yaml}
lock=${MCPDRIFT_LOCK:-mcp.lock.json}
format=${MCPDRIFT_FORMAT:-sarif}
out=${MCPDRIFT_OUT:-mcpdrift.$format}
fail_on=${MCPDRIFT_FAIL_ON:-low}

case $format in
  sarif | junit | json) ;;
  *) echo "check.sh: MCPDRIFT_FORMAT=$format: want sarif, junit or json" >&2; exit 2 ;;
esac

if [ -n "${MCPDRIFT_SOURCE:-}" ]; then
  bin=$(mktemp -d)
  make -s -C "$MCPDRIFT_SOURCE" build BIN="$bin/mcpdrift"
  PATH="$bin:$PATH"
  export PATH
elif [ -n "${MCPDRIFT_VERSION:-}" ]; then
  # Installs into $(go env GOPATH)/bin; put it first on PATH for this run.
  go install "github.com/mcpdrift/mcpdrift/cmd/mcpdrift@${MCPDRIFT_VERSION}"
  PATH="$(go env GOPATH)/bin:$PATH"
  export PATH
elif ! command -v mcpdrift >/dev/null 2>&1; then
  echo "check.sh: mcpdrift is not on PATH; set MCPDRIFT_VERSION (a commit) or MCPDRIFT_SOURCE (a checkout) to install it" >&2
  exit 2
fi
mcpdrift version >&2

if [ "${MCPDRIFT_VERIFY:-1}" = 1 ]; then
  mcpdrift lock verify "$lock" >&2
fi

set +e
mcpdrift --config "$config" check --lock "$lock" --fail-on "$fail_on" --format "$format" "$@" >"$out"
code=$?
set -e

case $code in
  0) echo "mcpdrift: every server matches $lock; report in $out" >&2 ;;
  1) echo "mcpdrift: drift or an unapproved server; report in $out" >&2 ;;
  3) echo "mcpdrift: a server could not be probed; report in $out" >&2 ;;
  *) echo "mcpdrift: failed (exit $code); $out may be incomplete" >&2 ;;
esac
exit "$code"
