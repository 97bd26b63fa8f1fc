#!/usr/bin/env bash
# make load: the load test of issue 8 (see cmd/load and docs/BENCHMARKS.md).
#
# Makes sure Java, DynamoDB Local and GNU time (for the API's peak RSS) are
# installed, builds the API as `make build` does (for this machine's
# architecture) and the load generator into a temporary directory, then runs
# the generator, which starts DynamoDB Local and the API on free loopback
# ports, sends the mix for DURATION at RATE requests per second, stops
# everything it started and prints the report. Extra arguments go to the
# generator (e.g. -json FILE, -api-log FILE).
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
# The deployed build's flags (see `make build`), for this machine.
"$GO" build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$tmp/api" ./lambda
"$GO" build -o "$tmp/load" ./cmd/load
"$tmp/load" -api "$tmp/api" -time /usr/bin/time -rate "$RATE" -duration "$DURATION" "$@"
