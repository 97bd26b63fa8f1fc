#!/usr/bin/env bash
# make load: the load test of issue 8 (see cmd/load and docs/BENCHMARKS.md).
#
# Builds the API exactly as `go build ./lambda` does and the load generator
# into a temporary directory, makes sure Java, DynamoDB Local and GNU time
# (for the API's peak RSS) are installed, then runs the generator, which
# starts DynamoDB Local and the API on free loopback ports, sends the mix
# for DURATION at RATE requests per second, stops everything it started and
# prints the report. Extra arguments go to the generator (e.g. -json FILE).
#
#   RATE=150 DURATION=60s bench/load.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="${GO:-go}"
RATE="${RATE:-150}"
DURATION="${DURATION:-60s}"

scripts/ensure-deps.sh
# `command -v time` finds the shell keyword, so ask for the binary itself.
scripts/ensure-deps.sh /usr/bin/time:time

tmp="$(mktemp -d "${TMPDIR:-/tmp}/property-load.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$GO" build -o "$tmp/api" ./lambda
"$GO" build -o "$tmp/load" ./cmd/load
"$tmp/load" -api "$tmp/api" -time /usr/bin/time -rate "$RATE" -duration "$DURATION" "$@"
