# Property GraphQL API: build, test and local development. `make` alone
# lists the targets (help below).

GO ?= go
GOFMT ?= $(shell $(GO) env GOROOT)/bin/gofmt
TESTFLAGS ?=

# gqlgen's output, checked by check-generated.
GENERATED := graph/generated.go graph/model/models_gen.go graph/schema.resolvers.go
# The published contract the schema must stay compatible with.
CONTRACT_SCHEMA ?= ../shared/contract/schema.graphqls
SCHEMA ?= schema.graphqls
BUILD_DIR := .build

export GO

# Targets run their prerequisites in the order written, even under -j.
.NOTPARALLEL:
.DEFAULT_GOAL := help
.PHONY: help deps generate check-generated compat lint test test-go dev token build clean fuzz load bench-overhead \
	package deploy actionlint bench-lambda bench-cpu

# The targets, one line each (README, "Two commands", lists them too; a
# test in api/ checks both against the .PHONY lists).
help:
	@echo 'Usage: make TARGET [VAR=value ...]'
	@echo ''
	@echo 'Local development'
	@echo '  dev             DynamoDB Local, a local bucket and sign-in, sample data, the API and Playground (PORT, default 8080)'
	@echo '  token           a token for the running make dev: make token SUB=user-1 TOKEN_GROUPS=admin'
	@echo '  backfill        bring old items to the API shape (the running make dev, or the API variables); BACKFILL_FLAGS'
	@echo '  sweep           remove images of deleted properties (the running make dev, or the API variables); SWEEP_FLAGS'
	@echo '  indexes         add the five indexes to an existing table, one at a time (the API variables); INDEXES_FLAGS'
	@echo ''
	@echo 'Tests and checks'
	@echo '  test            what CI runs: deps, check-generated, lint, compat, package, actionlint, test-go, test-browser (5-15 minutes)'
	@echo '  test-go         the Go tests against one DynamoDB Local (TESTFLAGS)'
	@echo '  test-browser    the Playground and CORS in a headless browser (CHROMIUM)'
	@echo '  lint            gofmt and go vet'
	@echo '  check-generated gqlgen output matches schema.graphqls and gqlgen.yml'
	@echo '  compat          the schema against the published contract (CONTRACT_SCHEMA)'
	@echo '  actionlint      lint the GitHub Actions workflows'
	@echo '  fuzz            fuzz each target for FUZZTIME (default 30s)'
	@echo '  load            load test: RATE requests/s for DURATION'
	@echo '  bench-overhead  handler overhead against a bare GetItem'
	@echo '  bench-lambda    cold start and warm invoke of the Lambda binary'
	@echo '  bench-cpu       CPU per request of the API next to the bare SDK calls'
	@echo ''
	@echo 'Build and deploy'
	@echo '  deps            install what the other targets need (npm ci, Java, chromium)'
	@echo '  generate        go generate ./... (gqlgen)'
	@echo '  build           .build/bootstrap.zip for the Lambda (linux/arm64)'
	@echo '  package         the CloudFormation templates, offline'
	@echo '  deploy          deploy to STAGE (default dev); needs AWS credentials'
	@echo '  clean           remove .build/'

deps:
	@scripts/ensure-deps.sh

generate:
	$(GO) generate ./...

check-generated:
	@scripts/check-generated.sh $(GENERATED)

# graphql-inspector exits 1 when it finds a breaking change (0 for safe or
# dangerous-only changes).
compat:
	@if [ ! -d "$(dir $(CONTRACT_SCHEMA))" ]; then \
		echo "compat: $(dir $(CONTRACT_SCHEMA)) not found; schema compatibility check skipped"; \
	elif [ ! -f "$(CONTRACT_SCHEMA)" ]; then \
		echo "compat: $(CONTRACT_SCHEMA) is missing" >&2; exit 1; \
	elif [ ! -f "$(SCHEMA)" ]; then \
		echo "compat: $(SCHEMA) is missing" >&2; exit 1; \
	else \
		out="$$(npx --no -- graphql-inspector diff "$(CONTRACT_SCHEMA)" "$(SCHEMA)" 2>&1)" || { \
			echo "$$out" | grep -v '✔' >&2; \
			echo "compat: $(SCHEMA) breaks the contract $(CONTRACT_SCHEMA) (see above)" >&2; exit 1; }; \
		echo "compat: $$(echo "$$out" | tail -n 1)"; \
	fi

lint:
	@files="$$(find . \( -name node_modules -o -name testdata -o -name '.?*' \) -prune -o -type f -name '*.go' -exec $(GOFMT) -l {} +)" || { \
		echo "lint: gofmt failed" >&2; exit 1; }; \
	if [ -n "$$files" ]; then \
		echo "lint: these files are not gofmt-formatted (fix with gofmt -w FILE):" >&2; \
		echo "$$files" | sed 's/^/  /' >&2; exit 1; \
	fi
	$(GO) vet ./...

test: deps check-generated lint compat package actionlint test-go test-browser

# DynamoDB Local engines are started by the tests themselves (TestMain).
# One in-memory DynamoDB Local serves every test package (each test makes
# its own table): one JVM instead of one per package on a 2-core machine.
# With DYNAMODB_ENDPOINT already set, that engine is used instead.
test-go:
	$(GO) vet -tags dev ./...
	@mkdir -p $(BUILD_DIR)/dev
	$(GO) build -o $(BUILD_DIR)/dev/dynamolocal ./internal/dynamolocal/cmd/dynamolocal
	$(if $(DYNAMODB_ENDPOINT),,$(BUILD_DIR)/dev/dynamolocal -q --) \
		sh -c '$(GO) test -count=1 $(TESTFLAGS) ./... && $(GO) test -count=1 -tags dev -run TestLocalIssuer $(TESTFLAGS) ./api/'

# Browser tests (e2e/, Node's test runner + playwright-core driving Debian's
# chromium, which deps installs): the Playground, and a frontend on another
# origin calling the API through CORS. Each test file starts its own
# DynamoDB Local and API servers on free ports; screenshots go to
# test-results/. CHROMIUM=/path/to/chrome picks another browser.
.PHONY: test-browser
test-browser: deps
	node --test --test-force-exit e2e/

# Fuzzing (issue 8). `make test` already runs every fuzz target's seed
# corpus (go test does); this fuzzes each target for FUZZTIME against one
# shared DynamoDB Local. A failing input is saved under api/testdata/fuzz.
FUZZTIME ?= 30s
# Every execution is a round trip to DynamoDB Local, so go's default of up
# to 60 s minimizing each new input would stall the run; crashers are kept
# either way.
FUZZMINIMIZETIME ?= 100x
FUZZ_TARGETS := FuzzGraphQLBody FuzzVariables FuzzCursor FuzzID
fuzz: deps
	@mkdir -p $(BUILD_DIR)/dev
	$(GO) build -o $(BUILD_DIR)/dev/dynamolocal ./internal/dynamolocal/cmd/dynamolocal
	$(if $(DYNAMODB_ENDPOINT),,$(BUILD_DIR)/dev/dynamolocal -q --) \
		sh -c 'for t in $(FUZZ_TARGETS); do echo "fuzz: $$t for $(FUZZTIME)"; \
			$(GO) test -run "^$$" -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) ./api/ || exit 1; done'

# Load test (issue 8): DynamoDB Local and the API binary on free loopback
# ports, RATE requests per second for DURATION, then a report (throughput,
# p50/p99, errors, the API's peak RSS). See docs/BENCHMARKS.md.
RATE ?= 150
DURATION ?= 60s
load:
	@RATE=$(RATE) DURATION=$(DURATION) bench/load.sh

# Lambda adapter + GraphQL overhead against a bare GetItem, and allocations
# per request (issue 8).
bench-overhead:
	@bench/overhead.sh

# CPU per request of the API process (8 connections) next to the bare SDK
# GetItem and Query of the same items, anonymous and signed in (issue 12).
# REQUESTS, ROUNDS and CONNS tune it; see docs/BENCHMARKS.md.
bench-cpu:
	@bench/cpu.sh

# A token of the local issuer the running `make dev` serves (found in
# .data/dev.env, so any PORT works): make token SUB=user-1 TOKEN_GROUPS=admin
# TOKEN_GROUPS, not GROUPS: bash keeps GROUPS for itself and never passes
# `GROUPS=admin make token` on (`make token GROUPS=admin` still works).
SUB ?= user-1
TOKEN_GROUPS ?= $(GROUPS)
token:
	@$(GO) run ./cmd/devtoken -sub "$(SUB)" -groups "$(TOKEN_GROUPS)"

# backfill and sweep run against the running `make dev` (its .data/dev.env)
# unless PROPERTY_TABLE_NAME names a table in the environment.
DEV_ENV := .data/dev.env
with-dev-env = $(if $(PROPERTY_TABLE_NAME),,$(if $(wildcard $(DEV_ENV)),set -a && . ./$(DEV_ENV) && set +a && echo "$@: the make dev stack in $(DEV_ENV)" >&2 && ))

# Brings the old Lambdas' items to this API's shape, against the table the
# API's variables name (README, "Adopting the existing table"). Flags go in
# BACKFILL_FLAGS: make backfill BACKFILL_FLAGS='-dry-run'
# Removes images uploaded after their property was deleted (through a
# still-valid upload URL). Run it daily against the API's variables;
# SWEEP_FLAGS='-dry-run' only prints.
.PHONY: sweep
SWEEP_FLAGS ?=
sweep:
	@$(with-dev-env)$(GO) run ./cmd/sweep $(SWEEP_FLAGS)

# Adds the five indexes of dynamo/table.json to an existing table (the one
# PROPERTY_TABLE_NAME names), one at a time, waiting for each to be ACTIVE;
# run it again to resume (README, "Adopting the existing table").
# INDEXES_FLAGS='-dry-run' only prints.
.PHONY: indexes
INDEXES_FLAGS ?=
indexes:
	$(GO) run ./cmd/indexes $(INDEXES_FLAGS)

.PHONY: backfill
BACKFILL_FLAGS ?=
backfill:
	@$(with-dev-env)$(GO) run ./cmd/backfill $(BACKFILL_FLAGS)

dev:
	@scripts/ensure-deps.sh --dev
	@scripts/dev.sh

build:
	@mkdir -p $(BUILD_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(BUILD_DIR)/bootstrap ./lambda
	@rm -f $(BUILD_DIR)/bootstrap.zip
	@if ! command -v zip >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then \
		scripts/ensure-deps.sh zip:zip; \
	fi
	@cd $(BUILD_DIR) && if command -v zip >/dev/null 2>&1; then \
		zip -q -X bootstrap.zip bootstrap; \
	else \
		python3 -m zipfile -c bootstrap.zip bootstrap; \
	fi
	@echo "built $(BUILD_DIR)/bootstrap.zip"

clean:
	rm -rf $(BUILD_DIR)

# Serverless Framework (osls, pinned in package.json). `package` needs no AWS
# account, credentials or network: it writes the CloudFormation templates
# deploy/template_test.go checks, prod's where the framework puts it
# (.serverless/) and dev's under .build/serverless/dev.
SERVERLESS ?= npx --no -- serverless
STAGE ?= dev
# The third template deploy/ checks: dev serving an existing table, with an
# alarm address and self sign-up on (every switch the other way).
ADOPT_TABLE := properties-legacy
package: build
	@rm -rf $(BUILD_DIR)/serverless
	$(SERVERLESS) package --stage dev --package $(BUILD_DIR)/serverless/dev
	$(SERVERLESS) package --stage dev --package $(BUILD_DIR)/serverless/adopt \
		--param=existingTableName=$(ADOPT_TABLE) --param=alarmEmail=ops@example.com --param=selfSignUp=true
	$(SERVERLESS) package --stage prod

# Deploys .build/bootstrap.zip and the stack to STAGE with the AWS
# credentials in the environment (see README, Deploying).
# DEPLOY_FLAGS adds framework options, e.g. --param=alarmEmail=ops@example.com.
DEPLOY_FLAGS ?=
deploy: build
	$(SERVERLESS) deploy --stage $(STAGE) $(DEPLOY_FLAGS)

# Lints every GitHub Actions workflow.
ACTIONLINT ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
actionlint:
	$(GO) run $(ACTIONLINT)

# Cold start (median of 20 starts under the Runtime API, 10 in local mode) and warm invoke latency (p50/p99 over
# 1,000 invokes) of the Lambda binary through a stand-in Runtime API against
# DynamoDB Local, and the binary and zip sizes. See docs/BENCHMARKS.md.
bench-lambda: build
	@echo "bootstrap (linux/arm64): $$(wc -c < $(BUILD_DIR)/bootstrap) bytes, bootstrap.zip: $$(wc -c < $(BUILD_DIR)/bootstrap.zip) bytes"
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 20x ./lambda/
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkColdStartLocal$$' -benchtime 10x ./lambda/
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkWarmInvoke$$' -benchtime 1000x ./lambda/
