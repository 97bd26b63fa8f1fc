#!/usr/bin/env bash
# make bench-cpu: CPU per request of the API process next to the bare SDK
# calls that read the same items (issue 12; see cmd/load/cpu.go and
# docs/BENCHMARKS.md).
#
# Builds the API as `make build` does (for this machine) and the load
# generator into a temporary directory, then runs `load -mode cpu`, which
# starts DynamoDB Local, a token issuer and the API on free loopback ports
# and measures, in rounds: GetItem bare, property(id) over HTTP (anonymous
# and signed in), the list Query bare, properties(first: 20) over HTTP
# (anonymous and signed in), each with CONNS concurrent callers. The API
# runs with the Go runtime settings serverless.yml gives the function
# (GOGC, GOMEMLIMIT, GOMAXPROCS), as deployed. Extra arguments go to the
# generator (e.g. -api-env GOGC=off, -sdk-gomaxprocs 1, -json FILE).
#
#   REQUESTS=3000 ROUNDS=5 CONNS=8 bench/cpu.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="${GO:-go}"
REQUESTS="${REQUESTS:-3000}"
ROUNDS="${ROUNDS:-5}"
CONNS="${CONNS:-8}"

scripts/ensure-deps.sh

tmp="$(mktemp -d "${TMPDIR:-/tmp}/property-cpu.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# The deployed build's flags (see `make build`), for this machine.
"$GO" build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$tmp/api" ./lambda
"$GO" build -o "$tmp/load" ./cmd/load
"$tmp/load" -mode cpu -api "$tmp/api" -time "" -requests "$REQUESTS" -rounds "$ROUNDS" -conns "$CONNS" -function-runtime serverless.yml "$@"
