#!/usr/bin/env bash
# make dev: runs the API locally against DynamoDB Local.
#
#   1. npm ci / Java when missing (scripts/ensure-deps.sh);
#   2. DynamoDB Local on a free port, data kept in .data/dynamodb
#      (DYNAMODB_LOCAL_PORT picks the port; an existing DYNAMODB_ENDPOINT
#      is used as is and no engine is started);
#   3. go run ./cmd/devsetup: creates the table and sample data if missing;
#   4. go run -tags dev ./lambda: the API and Playground on http://127.0.0.1:$PORT/,
#      with the local token issuer (`make token`) instead of Cognito and a
#      local images bucket. Once it listens it prints where each part runs
#      and records it in .data/dev.env (removed when it stops), which
#      `make token`, `make backfill` and `make sweep` read.
#
# The engine is run by internal/dynamolocal/cmd/dynamolocal, which runs
# steps 3-4 as its child and stops the engine (by PID, via its process group)
# whenever they end: Ctrl-C, an error, or a signal to this script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GO="${GO:-go}"
scripts/ensure-deps.sh --dev

# A shell that sourced .data/dev.env holds the last run's endpoints, whose
# ports die with it: drop them so this run starts its own engine and bucket.
if [ -n "${DEV_ENV_FILE:-}" ]; then
	echo "dev: ignoring the endpoints $DEV_ENV_FILE set in this shell (they were the last run's)"
	unset DEV_ENV_FILE DYNAMODB_ENDPOINT AWS_ENDPOINT_URL_DYNAMODB S3_ENDPOINT AWS_ENDPOINT_URL_S3 IMAGES_BUCKET
fi

export PROPERTY_TABLE_NAME="${PROPERTY_TABLE_NAME:-properties-dev}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export PORT="${PORT:-8080}"
export GO

# Fail in a second rather than after the engine's start (the server checks
# again when it binds).
if (: <"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "dev: 127.0.0.1:$PORT is already in use: stop what holds it, or pick another port, e.g. PORT=$((PORT == 8080 ? 18080 : PORT + 1)) make dev" >&2
	exit 1
fi

# Runs with DYNAMODB_ENDPOINT set.
# shellcheck disable=SC2016 # expanded by the inner shell
app='
"$GO" run ./cmd/devsetup
exec "$GO" run -tags dev ./lambda
'

if [ -n "${DYNAMODB_ENDPOINT:-}" ]; then
	echo "dev: using DYNAMODB_ENDPOINT=$DYNAMODB_ENDPOINT"
	exec bash -euc "$app"
fi

mkdir -p .data/dynamodb .build/dev
"$GO" build -o .build/dev/dynamolocal ./internal/dynamolocal/cmd/dynamolocal
exec .build/dev/dynamolocal -q -db .data/dynamodb -port "${DYNAMODB_LOCAL_PORT:-0}" -- bash -euc "$app"
