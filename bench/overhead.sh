#!/usr/bin/env bash
# make bench-overhead: what GraphQL, the HTTP chain and the Lambda adapter add
# to one DynamoDB read, and the allocations of a request (issue 8).
#
# Runs BenchmarkAdapterOverhead and BenchmarkAllocsPerRequest (api/) in
# rounds against one in-memory DynamoDB Local: round 0 warms the engine's JIT
# up and is discarded, rounds 1 to COUNT are kept (rounds rather than
# -count, so that the compared benchmarks run seconds apart on an equally
# warm engine). Then it prints the medians and
#   overhead (local)    = (Lambda request - bare GetItem) / bare GetItem,
#                         both against DynamoDB Local;
#   overhead (isolated) = (Lambda request - bare GetItem), both against a
#                         DynamoDB stub that answers at once, / the bare
#                         GetItem against DynamoDB Local.
# The target is 25 % at most.
#
#   COUNT=5 BENCHTIME=2000x bench/overhead.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="${GO:-go}"
COUNT="${COUNT:-5}"
BENCHTIME="${BENCHTIME:-2000x}"

scripts/ensure-deps.sh
mkdir -p .build/dev
"$GO" build -o .build/dev/dynamolocal ./internal/dynamolocal/cmd/dynamolocal
out="$(mktemp "${TMPDIR:-/tmp}/property-bench.XXXXXX")"
trap 'rm -f "$out"' EXIT
export GO COUNT BENCHTIME
# shellcheck disable=SC2016 # expanded by the inner shell
.build/dev/dynamolocal -q -- sh -c 'for i in $(seq 0 "$COUNT"); do
	echo "round $i"
	"$GO" test -run "^\$" -bench "AdapterOverhead|AllocsPerRequest" -benchtime "$BENCHTIME" -count 1 ./api/ || exit 1
done' | tee "$out"

# median NAME FIELD: the median of the value before FIELD ("ns/op",
# "allocs/op") over the runs of benchmark NAME.
median() {
	awk -v name="$1" -v unit="$2" '$1 == "round" { kept = ($2 > 0) } kept && $1 ~ "^Benchmark" name "(-[0-9]+)?$" {
		for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' "$out" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'
}

bare="$(median 'AdapterOverhead/local/bare-GetItem' ns/op)"
full="$(median 'AdapterOverhead/local/lambda-request' ns/op)"
sbare="$(median 'AdapterOverhead/stubbed/bare-GetItem' ns/op)"
sfull="$(median 'AdapterOverhead/stubbed/lambda-request' ns/op)"
echo
awk -v bare="$bare" -v full="$full" -v sbare="$sbare" -v sfull="$sfull" -v count="$COUNT" 'BEGIN {
	printf "median of %s rounds (ns/op):\n", count
	printf "  bare GetItem, DynamoDB Local      %10.0f\n", bare
	printf "  Lambda request, DynamoDB Local    %10.0f\n", full
	printf "  bare GetItem, stub                %10.0f\n", sbare
	printf "  Lambda request, stub              %10.0f\n", sfull
	printf "overhead (local):    %5.1f %%\n", (full - bare) / bare * 100
	printf "overhead (isolated): %5.1f %%  (%0.f ns on top of the SDK call)\n", (sfull - sbare) / bare * 100, sfull - sbare
}'
# The same ratio round by round (both measured seconds apart), and its median.
awk '$1 == "round" { r = $2 }
	r > 0 && $1 ~ "^BenchmarkAdapterOverhead/local/bare-GetItem" { bare[r] = $3 }
	r > 0 && $1 ~ "^BenchmarkAdapterOverhead/local/lambda-request" { full[r] = $3 }
	END { for (i = 1; i <= r; i++) if (bare[i] > 0) printf "%.4f\n", (full[i] - bare[i]) / bare[i] * 100 }' "$out" |
	sort -g | awk '{ v[NR] = $1; s = s sprintf(" %.1f", $1) }
	END { if (NR) printf "overhead (local) per round, sorted:%s %%; median %.1f %%\n", s, (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'
for b in property properties-20 updateProperty; do
	printf 'allocations per request, %-15s %s allocs/op, %s B/op\n' "$b:" \
		"$(median "AllocsPerRequest/$b" allocs/op)" "$(median "AllocsPerRequest/$b" B/op)"
done
