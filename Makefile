# Every workflow of the repo is a make target; the logic lives in tested Python
# (tooling/, emulator/), the targets only wire it together. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ENV ?= local
export ENV
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1

PYTHON ?= python3
PIPENV_VERSION := 2026.10.3
PY := .venv/bin/python
CHECKOV := tools/checkov/.venv/bin/checkov
# The SageMaker scikit-learn image runs training/ on Python 3.9 (tools/sagemaker-sklearn/ is a copy of that runtime).
# pipenv 2026 manages only Python >= 3.10 environments; 2025.0.4 is the last release that manages 3.9 ones.
CONTAINER_PYTHON ?= python3.9
CONTAINER_PIPENV_VERSION := 2025.0.4

# The Terraform/cdktf settings `make env` prints for running cdktf by hand (the provider mirror's
# CLI config, --skip-provider-lock with a mirror, the jsii banner on Node 20, no HashiCorp
# checkpoint calls), exported to every target from the same code: tooling/shell_env.py.
$(foreach assignment,$(shell $(PYTHON) -m tooling.shell_env --make),$(eval export $(assignment)))

.PHONY: help setup toolchain env synth plan apply bootstrap deploy destroy backfill train promote rollback promotions infer pip-login emulator emulator-stop test lint demo bench-synth bench-processor \
	bench-predict sample-data clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: .venv/.synced tools/checkov/.venv/.synced tools/sagemaker-sklearn/.venv/.synced node_modules/.synced toolchain ## install everything (idempotent)

.venv/.synced: Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	$(PYTHON) -m pipenv sync --dev
	@touch $@

tools/checkov/.venv/.synced: tools/checkov/Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	cd tools/checkov && PIPENV_PIPFILE=$(CURDIR)/tools/checkov/Pipfile $(PYTHON) -m pipenv sync
	@touch $@

# Without a Python 3.9, one line says so and setup goes on (nothing else needs it; the tests that do skip).
tools/sagemaker-sklearn/.venv/.synced: tools/sagemaker-sklearn/Pipfile.lock
	@if python=$$($(PYTHON) -m tooling.container_runtime --python "$(CONTAINER_PYTHON)"); then \
		$$python -m pipenv --version >/dev/null 2>&1 || $$python -m pip install --quiet "pipenv==$(CONTAINER_PIPENV_VERSION)"; \
		echo "cd tools/sagemaker-sklearn && $$python -m pipenv sync"; \
		cd tools/sagemaker-sklearn && PIPENV_PIPFILE=$(CURDIR)/tools/sagemaker-sklearn/Pipfile $$python -m pipenv sync --python "$$python"; \
		touch $(CURDIR)/$@; \
	fi

node_modules/.synced: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

toolchain:  # prints its findings when they change (first run, new Node or Terraform)
	@$(PYTHON) -m tooling.terraform_toolchain --config-out .terraform.d/cli.tfrc --report .terraform.d/toolchain.txt \
		$(if $(strip $(TF_PROVIDER_MIRROR)),--mirror $(TF_PROVIDER_MIRROR),)

env: ## print the exports that run cdktf/terraform by hand as make does: eval "$$(make env)"
	@$(PYTHON) -m tooling.shell_env

synth: setup ## synthesize ENV's stacks (ENV=local|dev|prod) into cdktf.out/
	npx --no-install cdktf synth

deploy: setup ## deploy ENV's stacks (local: starts the emulator first)
	@if [ "$(ENV)" = local ]; then $(MAKE) --no-print-directory emulator; fi
	@$(PY) -m tooling.deploy deploy

# The PR plan report for ENV, printed (and saved for `make apply`): every stack planned into cdktf.out/stacks/*/plan.tfplan.
plan: setup ## plan every stack of ENV in dependency order and print the report CI posts on PRs (local: starts the emulator)
	@if [ "$(ENV)" = local ]; then $(MAKE) --no-print-directory emulator; fi
	@$(PY) -m tooling.plan_report plan

apply: setup ## apply exactly the plans `make plan` saved, in dependency order (the deploy-on-merge job's step)
	@if [ "$(ENV)" = local ]; then $(MAKE) --no-print-directory emulator; fi
	@$(PY) -m tooling.apply_plans

# YES reaches the tool as an argument only when set; ENV must be dev or prod (the tool refuses local).
bootstrap: setup ## once per account, as an administrator: state bucket, GitHub OIDC provider, CI roles of ENV=dev|prod [YES=1]
	@$(PY) -m tooling.bootstrap $(if $(YES),--yes)

destroy: setup ## destroy ENV's stacks (dev/prod refuse: resources are prevent_destroy)
	$(PY) -m tooling.deploy destroy

backfill: setup ## reprocess every raw object under PREFIX (default incoming/), e.g. PREFIX=incoming/churn/
	@$(PY) -m tooling.backfill "$(or $(PREFIX),incoming/)"

train: setup ## run the training pipeline once and follow it (local: fires the deployed schedule)
	@$(PY) -m tooling.train

# MODEL, VERSION and REASON reach the CLI as environment variables, never spliced into the shell line.
export MODEL VERSION REASON
promote: setup ## promote a candidate: MODEL=churn VERSION=1.0.3 [REASON=..] [YES=1] (check, stage, plan, apply, verify)
	@if [ -z "$${MODEL:-}" ] || [ -z "$${VERSION:-}" ]; then echo "usage: make promote MODEL=<name> VERSION=<version> [REASON=...] [YES=1]" >&2; exit 2; fi
	@$(PY) -m promotion promote "$$MODEL" "$$VERSION" $${REASON:+--reason "$$REASON"}

rollback: setup ## put MODEL's previous production version back: MODEL=churn [REASON=..] [YES=1]
	@if [ -z "$${MODEL:-}" ]; then echo "usage: make rollback MODEL=<name> [REASON=...] [YES=1]" >&2; exit 2; fi
	@$(PY) -m promotion rollback "$$MODEL" --apply $${REASON:+--reason "$$REASON"}

promotions: setup ## the promotion history of MODEL (default: the training model) in ENV
	@$(PY) -m promotion history "$${MODEL:-$$($(PY) -c 'import platform_config; print(platform_config.load().training.model_name)')}"

# INPUT and OUTPUT_PREFIX reach the CLI as environment variables too (MODEL is exported above).
export INPUT OUTPUT_PREFIX
pip-login: setup ## point pip, pipenv and twine at ENV's team CodeArtifact repository (writes .state/ENV/pip.env)
	@$(PY) -m tooling.pip_login

infer: setup ## score a batch with the production model: INPUT=<file.csv[.gz]|s3://..> [MODEL=..] [OUTPUT_PREFIX=..]
	@if [ -z "$${INPUT:-}" ]; then echo "usage: make infer INPUT=<batch.csv[.gz] | s3://<inference bucket>/batches/<key>> [MODEL=<name>] [OUTPUT_PREFIX=<folder/>]" >&2; exit 2; fi
	@$(PY) -m tooling.infer "$$INPUT" $${MODEL:+--model "$$MODEL"} $${OUTPUT_PREFIX:+--output-prefix "$$OUTPUT_PREFIX"}

emulator: setup ## start the local AWS emulator in the background (idempotent)
	$(PY) -m emulator start --detach --reset-dir .state/local

emulator-stop: ## stop the local AWS emulator
	@if [ -x $(PY) ]; then $(PY) -m emulator stop; else echo "emulator: not running"; fi

test: setup lint ## lint, then unit, emulator, checkov and integration tests
	$(PY) -m pytest

lint: setup ## static checks: ruff (lint + format) on the Python; actionlint + shellcheck, zizmor, checkov on the workflows
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m tooling.lint_workflows

demo: setup ## deploy the platform to the emulator and show what runs there
	@$(MAKE) --no-print-directory emulator ENV=local
	ENV=local $(PY) -m tooling.demo

bench-synth: setup ## time full synth vs a one-resource synth, naive and fast imports
	$(PY) -m tooling.bench_synth

bench-processor: setup ## data processor throughput and peak memory vs a stdlib CSV floor
	$(PY) -m tooling.bench_processor

bench-predict: setup ## predict handler rows/s and peak memory on 1M and 2M rows vs a bare scoring loop
	$(PY) -m tooling.bench_predict

sample-data: setup ## write a sample churn CSV with bad rows (ARGS="--rows 1000 --bad-rows 20 --out x.csv")
	$(PY) -m sample_data $(ARGS)

clean: emulator-stop ## remove generated files (keeps the installed environments)
	rm -rf cdktf.out .state .emulator .build .pytest_cache
