# Every target bootstraps what it needs: a fresh clone runs `make test` or `make demo` directly.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
export SAM_CLI_TELEMETRY := 0

.PHONY: test lint typecheck unit template demo build layer-requirements clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# aws-sam-cli pins boto3 and pydantic, so it lives in its own venv.
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)

venv: $(BIN)/.installed

layer-requirements: $(BIN)/.installed
	$(BIN)/python tools/layer_requirements.py --write

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check layers functions tests tools benchmarks

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/pytest

template: $(BIN)/.installed $(SAM)
	$(BIN)/python tools/layer_requirements.py --check
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint

test: lint typecheck unit template

build: $(SAM)
	$(SAM) build

demo: $(BIN)/.installed
	$(BIN)/sis-imports demo

clean:
	rm -rf $(VENV) .tools .aws-sam
