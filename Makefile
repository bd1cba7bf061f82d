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

# The runtime `sam build` builds for and `make deploy` deploys (template parameter PythonRuntime): the first of
# python3.12, 3.13, 3.11 this machine runs, since SAM builds the layer with that very Python. Override it with
# PYTHON_RUNTIME=python3.13; `sam build --use-container` needs no local Python where Docker runs.
PYTHON_RUNTIME ?= $(shell for v in 3.12 3.13 3.11; do python$$v -c '' 2>/dev/null && { echo python$$v; exit; }; done; echo python3.12)
# samconfig.toml's parameter overrides for $(STAGE), to which deploy adds PythonRuntime (a command-line
# --parameter-overrides replaces the config file's instead of adding to it).
STAGE_PARAMETERS = $(shell $(PYTHON) -c "import tomllib; print(tomllib.load(open('samconfig.toml', 'rb'))['$(STAGE)']['deploy']['parameters']['parameter_overrides'])")

.PHONY: run receiver test lint format openapi bench audit template-check build build-check deploy replay-webhooks migrate operator-key clean

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

receiver: $(STAMP)  ## a webhook receiver on http://127.0.0.1:$${RECEIVER_PORT:-4000}/hooks that verifies and prints deliveries
	$(BIN)/python -m local.receiver

test: $(STAMP)  ## every test: unit, integration on moto, end-to-end over HTTP, template checks; a test file per core
	$(BIN)/pytest -n $${TEST_WORKERS:-auto} --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=layers/common $(BIN)/lint-imports

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

build-check: $(SAM)  ## prove `sam build` of the template works here, for $(PYTHON_RUNTIME)
	bash scripts/build_check.sh $(SAM) $(PYTHON_RUNTIME)

build: $(SAM)  ## sam build for $(PYTHON_RUNTIME)
	$(SAM) build --parameter-overrides PythonRuntime=$(PYTHON_RUNTIME)

deploy: build  ## STAGE=dev|prod; deploys the runtime it built for
	$(SAM) deploy --config-env $(STAGE) --parameter-overrides $(STAGE_PARAMETERS) PythonRuntime=$(PYTHON_RUNTIME)

migrate: $(STAMP)  ## STACK=agent-task-board-dev: once after deploying the shared timers, move old tasks onto the new layout
	$(BIN)/python -m scripts.migrate_listings --stack $(STACK)

operator-key: $(STAMP)  ## STAGE=dev|prod: make an operator account (it settles disputes) and print its key, once
	$(BIN)/python -m scripts.operator_key --stack agent-task-board-$(STAGE)

replay-webhooks: $(STAMP)  ## STAGE=dev|prod: move the deployed stack's dead-lettered webhook deliveries back
	$(BIN)/python -m scripts.replay_webhooks --stack agent-task-board-$(STAGE)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache .webhook-secrets
