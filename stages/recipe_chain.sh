#!/usr/bin/env bash
# A recipe's whole chain on one GPU machine after `gpu_bundle.py unpack`, in two lanes that share the GPU (a 1.5B
# model leaves an H200 mostly idle, so two processes at once finish sooner than one after the other):
#   lane 1: train SFT run, DPO on it (stages/configs/prefer/<preset>.yaml), evaluate the DPO run
#   lane 2: evaluate the base, then (once SFT is trained) the SFT run
#   lane 3 (only with DPO2=NAME): a second DPO run on the same SFT run with DPO2_ARGS overrides (e.g.
#           DPO2_ARGS="training.loss_type=[sigmoid,sft]"); its evaluation waits for lane 2, so that at most two
#           evaluations share the GPU's memory at once
# then a report and a recipe record for each run. Every model is evaluated with the same profile (paired items).
# What a bundle carried (`gpu_bundle.py build --carry ...`) is reused: an SFT run's adapter is merged instead of
# trained again, a base evaluation of this profile is not run again.
# Meant to run detached, so that it outlives one call to a machine whose calls are time-limited:
#   setsid nohup bash stages/recipe_chain.sh SFT_RUN DPO_RUN [PROFILE] [TRAIN_CONFIG] >/dev/null 2>&1 </dev/null &
# Progress: artifacts/chain/steps.txt (one line per finished step: exit code, seconds), each step's log beside it,
# artifacts/chain/DONE at the end. Extra overrides for the SFT run: SFT_ARGS="training.learning_rate=5e-5"; for the
# DPO run: DPO_ARGS="pairs.caps.runaway=400 pairs.caps.sensitive_refusal=178" (split on spaces: one key per override).
set -uf  # -f: overrides such as training.loss_type=[sigmoid,sft] are not file patterns
sft=${1:?SFT run name} dpo=${2:?DPO run name} profile=${3:-full}
cfg=${4:-stages/configs/train/qwen2.5-coder-1.5b_lora.yaml}
preset=$(sed -n 's/^  preset: *\([^ #]*\).*/\1/p' "$cfg")
logs=artifacts/chain
mkdir -p "$logs"
export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True  # two processes share the GPU's memory

bundle() { python3 stages/gpu_bundle.py "$@"; }
step() {  # step NAME COMMAND...: its output in $logs/NAME.log, its exit code and time in steps.txt
  local name=$1 started=$SECONDS rc
  shift
  "$@" >"$logs/$name.log" 2>&1
  rc=$?
  echo "$name exit=$rc $((SECONDS - started))s" >>"$logs/steps.txt"
  return $rc
}

sft_model() {  # train the SFT run, or merge its carried adapter
  if [ -f "artifacts/$sft/adapter/adapter_config.json" ] && [ ! -d "artifacts/$sft/merged" ]; then
    step "merge-$sft" bundle stage train --train-config "$cfg" --run "$sft" merge.only=true
  else
    step "train-$sft" bundle stage train --train-config "$cfg" --run "$sft" ${SFT_ARGS:-}
  fi
}

sft_ready() {  # wait until lane 1 has the SFT model; false when it gave up without one
  until [ -e "$logs/$sft.trained" ] || [ -e "$logs/lane1.done" ]; do sleep 5; done
  [ -e "$logs/$sft.trained" ]
}

lane1() {
  sft_model && touch "$logs/$sft.trained" &&
    step "prefer-$dpo" bundle stage prefer --train-config "$cfg" "start=$sft" "run_name=$dpo" ${DPO_ARGS:-} &&
    step "eval-$dpo" bundle stage eval --train-config "$cfg" --run "$dpo" --profile "$profile"
  touch "$logs/lane1.done"
}

lane2() {
  [ -f "artifacts/baseline-$preset/eval/$profile/metrics.json" ] ||
    step baseline bundle stage baseline --train-config "$cfg" --profile "$profile"
  sft_ready || return
  step "eval-$sft" bundle stage eval --train-config "$cfg" --run "$sft" --profile "$profile"
}

lane3() {
  sft_ready || return
  step "prefer-$DPO2" bundle stage prefer --train-config "$cfg" "start=$sft" "run_name=$DPO2" ${DPO2_ARGS:-} || return
  until [ -e "$logs/lane2.done" ]; do sleep 5; done
  step "eval-$DPO2" bundle stage eval --train-config "$cfg" --run "$DPO2" --profile "$profile"
}

lane1 &
[ -n "${DPO2:-}" ] && lane3 &
lane2
touch "$logs/lane2.done"
wait
for run in "$sft" "$dpo" ${DPO2:-}; do
  [ -f "artifacts/$run/eval/$profile/metrics.json" ] || continue
  step "report-$run" bundle stage report --train-config "$cfg" --run "$run" --profile "$profile" &&
    step "record-$run" bundle exec python3 stages/recipe_experiments.py record "$run" --run "artifacts/$run" \
      --note "${NOTE:-}$([ "$run" != "$sft" ] && echo " DPO on $sft")$([ "$run" = "$dpo" ] && echo " ${DPO_ARGS:-}")$([ "$run" = "${DPO2:-}" ] && echo " ${DPO2_ARGS:-}")"
done
touch "$logs/DONE"
