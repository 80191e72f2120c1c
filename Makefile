# Every target bootstraps what it needs: a fresh clone runs `make test` or `make demo` directly.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
AUDIT_VENV := .tools/audit
AUDIT := $(AUDIT_VENV)/bin/pip-audit
AUDIT_VERSION := 2.10.1
export SAM_CLI_TELEMETRY := 0
# The Lambda runtime's Python, to run the built handlers as Lambda would (pyenv puts it here).
# (A pyenv shim may exist without working, so each candidate must actually run.)
PYTHON_LAMBDA ?= $(shell for p in $$HOME/.pyenv/versions/3.13*/bin/python3.13 $$(command -v python3.13); do "$$p" -c '' 2>/dev/null && echo "$$p" && break; done)
LAMBDA_VENV := .tools/lambda313
BOTO3 := $(shell sed -n 's/.*"\(boto3==[0-9.]*\)".*/\1/p' pyproject.toml | head -n 1)

.PHONY: test lint typecheck unit template security audit artifact bench bench-smoke bytecode demo build layer-requirements clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(COMPILE)
	touch $@

# Bytecode for our own package, which an editable install leaves uncompiled: where
# PYTHONDONTWRITEBYTECODE is set (CI, this workplace) every command would compile it again, about
# 20 ms of `sis-imports check`'s start-up. Python still checks each file's mtime, so an edit
# is never run stale; it only costs that compile again until the next `make bytecode`.
COMPILE = $(BIN)/python -m compileall -q layers/sis_imports/sis_imports
bytecode: $(BIN)/.installed
	$(COMPILE)

# aws-sam-cli pins boto3 and pydantic, so it lives in its own venv.
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)

# checkov has its own pins too; its own venv.
$(CHECKOV):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

# pip-audit reads the layer's folder, not its own environment; its own venv too.
$(AUDIT):
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet pip-audit==$(AUDIT_VERSION)

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

# Zero failed checks; every skip is in template.yaml's Metadata with its reason.
security: $(CHECKOV)
	$(CHECKOV) -f template.yaml --framework cloudformation --quiet --compact --skip-download

# pip-audit over the built layer, every package Lambda will load (tools/audit.py). It needs PyPI's
# vulnerability API; where that cannot be reached it prints so in a banner (AUDIT_REQUIRED=1 fails).
audit: build $(AUDIT)
	$(AUDIT_VENV)/bin/python tools/audit.py

# The benchmark (docs/performance.md); the smoke run asserts the exact write-count targets.
bench: build $(BIN)/.installed $(LAMBDA_VENV)/.installed bytecode
	$(BIN)/python benchmarks/run.py --json benchmarks/out.json --lambda-python $(LAMBDA_VENV)/bin/python

bench-smoke: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py --smoke

test: lint typecheck unit template security artifact audit bench-smoke

build: $(SAM)
	$(SAM) build

# The real artifact: `sam build` output, each handler run under Python 3.13 with only its
# layer and boto3, against a moto server made from template.yaml.
$(LAMBDA_VENV)/.installed:
	@test -n "$(PYTHON_LAMBDA)" || (echo "python3.13 not found: install it (pyenv install 3.13) to check the artifact" && exit 1)
	$(PYTHON_LAMBDA) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet $(BOTO3)
	touch $@

artifact: build $(BIN)/.installed $(LAMBDA_VENV)/.installed
	$(BIN)/python tools/artifact_check.py $(LAMBDA_VENV)/bin/python

demo: $(BIN)/.installed
	$(BIN)/sis-imports demo

clean:
	rm -rf $(VENV) .tools .aws-sam
