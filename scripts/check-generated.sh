#!/usr/bin/env bash
# Fails when generated code is stale: checksums the given files (those that
# exist), runs `go generate ./...`, and compares. Does not rely on git. The
# files are left regenerated, so the fix is to review and commit them.
#
# Usage: scripts/check-generated.sh FILE...   (GO=go by default)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO="${GO:-go}"

sums() {
	local f
	for f in "$@"; do
		if [ -f "$f" ]; then
			printf '%s %s\n' "$(cksum <"$f" | tr -s ' ' '-')" "$f"
		else
			printf 'absent %s\n' "$f"
		fi
	done
}

before="$(sums "$@")"
"$GO" generate ./...
after="$(sums "$@")"

if [ "$before" != "$after" ]; then
	changed=()
	while read -r sum file; do
		grep -qxF "$sum $file" <<<"$before" || changed+=("$file")
	done <<<"$after"
	{
		echo "check-generated: generated code was stale; \`$GO generate ./...\` changed:"
		printf '  %s\n' "${changed[@]}"
		echo "Review and commit the regenerated files."
	} >&2
	exit 1
fi
