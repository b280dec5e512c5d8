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

.PHONY: run
run: bin/fleetdev ## serve the whole API on 127.0.0.1:$(PORT) (STORE=embedded|aws, DATA_DIR=.data)
	PORT=$(PORT) DATA_DIR=$(DATA_DIR) STORE=$(STORE) bin/fleetdev serve

.PHONY: token
token: bin/fleetdev ## print a development bearer token: make token ORG=acme [SCOPES="fleet-providers:read"]
	@DATA_DIR=$(DATA_DIR) bin/fleetdev token -org "$(ORG)" -scopes "$(SCOPES)"

# ---- tests -----------------------------------------------------------------------------------

.PHONY: venv
venv: $(VENV)/.installed ## install the Python test tools (moto, cfn-lint) into .venv

$(VENV)/.installed: .ci/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r .ci/requirements.txt
	@touch $@

.PHONY: test
test: venv ## run all tests (installs and starts the emulators it needs)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

.PHONY: FORCE
FORCE:
