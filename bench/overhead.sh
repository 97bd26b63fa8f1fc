#!/usr/bin/env bash
# make bench-overhead: what GraphQL, the HTTP chain and the Lambda adapter add
# to one DynamoDB read, and the allocations of a request (issue 8).
#
# Runs BenchmarkAdapterOverhead and BenchmarkAllocsPerRequest (api/) COUNT
# times against one in-memory DynamoDB Local, then prints the medians and
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
.build/dev/dynamolocal -q -- "$GO" test -run '^$' -bench 'AdapterOverhead|AllocsPerRequest' \
	-benchtime "$BENCHTIME" -count "$COUNT" ./api/ | tee "$out"

# median NAME FIELD: the median of the value before FIELD ("ns/op",
# "allocs/op") over the runs of benchmark NAME.
median() {
	awk -v name="$1" -v unit="$2" '$1 ~ "^Benchmark" name "(-[0-9]+)?$" {
		for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' "$out" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'
}

bare="$(median 'AdapterOverhead/local/bare-GetItem' ns/op)"
full="$(median 'AdapterOverhead/local/lambda-request' ns/op)"
sbare="$(median 'AdapterOverhead/stubbed/bare-GetItem' ns/op)"
sfull="$(median 'AdapterOverhead/stubbed/lambda-request' ns/op)"
echo
awk -v bare="$bare" -v full="$full" -v sbare="$sbare" -v sfull="$sfull" 'BEGIN {
	printf "median of %s runs (ns/op):\n", ENVIRON["COUNT"]
	printf "  bare GetItem, DynamoDB Local      %10.0f\n", bare
	printf "  Lambda request, DynamoDB Local    %10.0f\n", full
	printf "  bare GetItem, stub                %10.0f\n", sbare
	printf "  Lambda request, stub              %10.0f\n", sfull
	printf "overhead (local):    %5.1f %%\n", (full - bare) / bare * 100
	printf "overhead (isolated): %5.1f %%  (%0.f ns on top of the SDK call)\n", (sfull - sbare) / bare * 100, sfull - sbare
}'
for b in property properties-20 updateProperty; do
	printf 'allocations per request, %-15s %s allocs/op, %s B/op\n' "$b:" \
		"$(median "AllocsPerRequest/$b" allocs/op)" "$(median "AllocsPerRequest/$b" B/op)"
done
