# Property GraphQL API: build, test and local development.
#
#   make test    deps, check-generated, lint, compat, then the Go tests
#   make dev     DynamoDB Local (data in .data/dynamodb) + sample data + the API
#   make build   .build/bootstrap.zip for the Lambda (linux/arm64)

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
.DEFAULT_GOAL := test
.PHONY: deps generate check-generated compat lint test test-go dev token build clean

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

test: deps check-generated lint compat test-go

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

# A token of the local issuer `make dev` runs: make token SUB=user-1 GROUPS=admin
SUB ?= user-1
GROUPS ?=
token:
	@$(GO) run ./cmd/devtoken -sub "$(SUB)" -groups "$(GROUPS)"

dev: deps
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
