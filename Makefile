# The project's vocabulary. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
STAGE ?= dev
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY ?= 0

.PHONY: run test lint format openapi bench audit template-check build build-check deploy replay-webhooks clean

$(STAMP): pyproject.toml layers/common/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli

run: $(STAMP)  ## the whole API on http://127.0.0.1:$${PORT:-3000}, on moto
	$(BIN)/python -m local.server

test: $(STAMP)  ## every test: unit, integration on moto, end-to-end over HTTP, template checks
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: $(STAMP)  ## regenerate docs/openapi.json from the code
	$(BIN)/python -m local.openapi

bench: $(STAMP)  ## AWS requests per endpoint, cold starts, /tasks/next as the table grows, timers' cost per lifecycle
	$(BIN)/python -m scripts.bench

audit: $(STAMP)  ## recompute every balance from the ledger: of the running `make run`, or STACK=agent-task-board-dev
	$(BIN)/python -m scripts.audit $(if $(STACK),--stack $(STACK),--local http://127.0.0.1:$${PORT:-3000})

template-check: $(STAMP) $(SAM)  ## cfn-lint and sam validate --lint
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

build-check: $(SAM)  ## prove `sam build` works, with the runtime set to this machine's Python
	bash scripts/build_check.sh $(SAM)

build: $(SAM)
	$(SAM) build

deploy: build  ## STAGE=dev|prod
	$(SAM) deploy --config-env $(STAGE)

replay-webhooks: $(STAMP)  ## STAGE=dev|prod: move the deployed stack's dead-lettered webhook deliveries back
	$(BIN)/python -m scripts.replay_webhooks --stack agent-task-board-$(STAGE)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
