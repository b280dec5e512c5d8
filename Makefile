# Fleet Providers service. `make run` serves the API locally; `make test` runs every test.
SHELL := bash
.DEFAULT_GOAL := help

GO       ?= go
PORT     ?= 3000
DATA_DIR ?= .data
STORE    ?= embedded
ORG      ?=
SCOPES   ?=
VENV     := .venv

# Every Lambda function, one folder each under functions/.
FUNCTIONS := $(notdir $(wildcard functions/*))

.PHONY: help
help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---- local run -------------------------------------------------------------------------------

bin/fleetdev: FORCE
	@$(GO) build -o $@ ./shared/cmd/fleetdev

# With STORE=aws and `make emulators` running, the server uses them (creating the table there);
# otherwise the standard AWS environment and profile variables decide (TABLE_NAME required).
.PHONY: run
run: bin/fleetdev ## serve the whole API on 127.0.0.1:$(PORT) (STORE=embedded|aws, DATA_DIR=.data)
	@if [ "$(STORE)" = aws ] && emu=$$(bash .ci/emulators.sh env); then eval "$$emu"; echo "using the local emulators"; fi; \
	PORT=$(PORT) DATA_DIR=$(DATA_DIR) STORE=$(STORE) bin/fleetdev serve

.PHONY: token
token: bin/fleetdev ## print a development bearer token: make token ORG=acme [SCOPES="fleet-providers:read"]
	@DATA_DIR=$(DATA_DIR) bin/fleetdev token -org "$(ORG)" -scopes "$(SCOPES)"

# ---- tests -----------------------------------------------------------------------------------

.PHONY: venv
venv: $(VENV)/.installed ## install the Python tools (moto, cfn-lint, aws-sam-cli) into .venv

$(VENV)/.installed: .ci/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r .ci/requirements.txt
	@touch $@

.PHONY: test
test: venv emulators-install ## run all tests (installs the emulators; tests start and stop them)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

.PHONY: emulators-install
emulators-install: venv ## install DynamoDB Local (Maven Central) into .emulators/
	bash .ci/dynamodb-local/install.sh

.PHONY: emulators
emulators: emulators-install ## start DynamoDB Local (127.0.0.1:8000) and moto (127.0.0.1:5000) in the background
	bash .ci/emulators.sh start

.PHONY: emulators-stop
emulators-stop: ## stop what `make emulators` started
	bash .ci/emulators.sh stop

.PHONY: fuzz-api
fuzz-api: venv ## schemathesis against the local server from the OpenAPI document (FUZZ_SECONDS=60)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r .ci/requirements-fuzz.txt
	bash .ci/fuzz-api.sh

# ---- scheduled revalidation ------------------------------------------------------------------

.PHONY: revalidate
revalidate: bin/fleetdev ## revalidate due providers once, in process (STORE=, INTERVAL=24h; 0 for all)
	DATA_DIR=$(DATA_DIR) STORE=$(STORE) bin/fleetdev revalidate $(if $(INTERVAL),-interval $(INTERVAL))

.PHONY: repair
repair: bin/fleetdev ## delete orphan secrets and restore secret versions interrupted writes left (STORE=)
	DATA_DIR=$(DATA_DIR) STORE=$(STORE) bin/fleetdev repair

.PHONY: bench-validate
bench-validate: venv ## each cloud validator against local fakes with a fixed latency per call
	$(GO) test -run '^$$' -bench Validate -benchtime 20x ./shared/validate/...

.PHONY: bench-revalidate
bench-revalidate: emulators-install ## 10k providers on DynamoDB Local, 100 ms validator (CONCURRENCY=25)
	$(GO) test -run '^$$' -bench Revalidate10k -benchtime 1x ./shared/revalidate/ -args -concurrency $(or $(CONCURRENCY),25)

.PHONY: FORCE
FORCE:

# ---- Lambda functions: build, SAM, local invoke, benchmark -------------------------------------

ARCH      ?= arm64
LAMBDA_OS ?= linux
AUTH_MODE ?= authorizer
BENCH_RUNS ?= 20
SAM       := SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam

# The one way every Lambda bootstrap is built: static (provided.al2023 has no Go toolchain to
# match), no RPC mode (the Runtime API is all provided.* runtimes speak), reproducible, stripped.
# LOCAL_TAGS=fleet_embedded (make invoke, tests) adds the embedded store deployed functions leave out.
LAMBDA_GOBUILD = CGO_ENABLED=0 GOOS=$(LAMBDA_OS) GOARCH=$(ARCH) $(GO) build -tags lambda.norpc$(LOCAL_TAGS:%=,%) -trimpath -ldflags='-s -w'

# SAM names functions/<name> <Name>Function (revalidate-worker: RevalidateWorkerFunction) and runs
# `make build-<LogicalId>` with ARTIFACTS_DIR set. The pattern rule below recovers <name> from the
# logical id, so a new folder under functions/ needs a template resource, not a new rule.
function_of = $(shell echo '$(1)' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')

# Checks are $(error)s rather than shell tests so that `make -n` (the consistency test) fails too.
build-%Function:
	$(if $(ARTIFACTS_DIR),,$(error $@: ARTIFACTS_DIR is not set (sam build sets it)))
	$(if $(wildcard functions/$(call function_of,$*)/main.go),,$(error $@: no functions/$(call function_of,$*)/main.go))
	$(LAMBDA_GOBUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(call function_of,$*)

# Any main package as a bootstrap with the same flags (the benchmark's hello-world baseline).
.PHONY: lambda-bootstrap
lambda-bootstrap:
	$(if $(and $(PKG),$(ARTIFACTS_DIR)),,$(error usage: make lambda-bootstrap PKG=./path ARTIFACTS_DIR=dir))
	$(LAMBDA_GOBUILD) -o $(ARTIFACTS_DIR)/bootstrap $(PKG)

.PHONY: build
build: $(FUNCTIONS:%=build/%/bootstrap) ## build every function into build/<name>/bootstrap (ARCH=arm64)

build/%/bootstrap: FORCE
	$(LAMBDA_GOBUILD) -o $@ ./functions/$*

.PHONY: lint
lint: venv ## go vet, gofmt and cfn-lint on template.yaml
	$(GO) vet ./...
	@unformatted=$$(gofmt -l functions shared); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(VENV)/bin/cfn-lint template.yaml

.PHONY: invoke
invoke: ## run a function's real bootstrap on an event, no Docker: make invoke FN=get EVENT=events/get.json
	$(if $(and $(FN),$(EVENT)),,$(error usage: make invoke FN=<function> EVENT=events/<file>.json))
	@STORE=$(STORE) DATA_DIR=$(DATA_DIR) AUTH_MODE=$(AUTH_MODE) $(GO) run ./shared/cmd/invoke -fn $(FN) -event $(EVENT)

.PHONY: bench
bench: ## cold start of every function against a hello-world aws-lambda-go bootstrap (amd64)
	$(GO) run ./shared/cmd/coldstart -n $(BENCH_RUNS)

.PHONY: sam-build
sam-build: venv ## sam build (no Docker), then check that every function has its bootstrap
	$(SAM) build
	@for f in $(FUNCTIONS); do \
	  id=$$(echo "$$f" | sed -E 's/(^|-)([a-z])/\U\2/g')Function; \
	  test -x .aws-sam/build/$$id/bootstrap || { echo "sam build left no bootstrap for $$id"; exit 1; }; \
	  test "$$(od -An -tx2 -j18 -N2 .aws-sam/build/$$id/bootstrap | tr -d ' ')" = 00b7 || \
	    { echo "$$id: bootstrap is not an arm64 (aarch64) executable"; exit 1; }; \
	done; echo "arm64 bootstrap built for: $(FUNCTIONS)"

# Deploys what sam-build built, with samconfig.toml's settings for CONFIG_ENV (default, staging,
# prod). The first deployment of an environment is best done with `sam deploy --guided`.
CONFIG_ENV ?= default
.PHONY: deploy
deploy: sam-build ## sam deploy --config-env $(CONFIG_ENV) (needs AWS credentials; see README "Deploy")
	$(SAM) deploy --config-env $(CONFIG_ENV)
