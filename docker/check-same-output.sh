#!/usr/bin/env bash
# Manual check (CI builds no images): a stage gives byte-identical output in its image and in the venv.
#   docker/check-same-output.sh data   `make data RUNNER=docker` (evaluator) vs `make data` (venv):
#                                      sha256 of data/processed/*.jsonl
#   docker/check-same-output.sh gguf   convert_hf_to_gguf.py --outtype q8_0 of the default base model in the
#                                      converter image vs the venv (needs `make llama-cpp` for the source)
# Runs in a scratch folder (the repository's data/ and artifacts/ are untouched), with the code copied out
# of the image, so both sides run the same code. Run `make images` first.
set -euo pipefail
what="${1:-data}"
case "$what" in data|gguf) ;; *) echo "usage: $0 data|gguf" >&2; exit 2 ;; esac
repo="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${IMAGE_PREFIX:-medtune-}" tag="${IMAGE_TAG:-latest}"
work="$(mktemp -d "${TMPDIR:-/tmp}/medtune-same-output.XXXXXX")"
timed() { local start=$SECONDS; "$@"; echo "[same-output] took $((SECONDS - start)) s"; }

compare() {  # compare <glob relative to each side>
  (cd "$work/local" && sha256sum $1) > "$work/local.sha256"
  (cd "$work/docker" && sha256sum $1) > "$work/docker.sha256"
  cat "$work/docker.sha256"
  echo "[same-output] owner of the docker side's files: $(stat -c %U:%G $work/docker/$1 | sort -u | tr '\n' ' ')(caller: $(id -un):$(id -gn))"
  if diff "$work/local.sha256" "$work/docker.sha256"; then
    echo "[same-output] IDENTICAL: $(wc -l < "$work/local.sha256") files ($work)"
  else
    echo "[same-output] DIFFERENT (see above); outputs kept in $work" >&2
    exit 1
  fi
}

case "$what" in
data)
  shared="$(cd "${MEDTUNE_SHARED_DATA:-$repo/../shared/data}" && pwd)"
  container="$(docker create "${prefix}evaluator:${tag}")"
  for side in local docker; do
    mkdir -p "$work/$side/data" "$work/$side/artifacts"
    cp "$repo/Makefile" "$repo/pyproject.toml" "$work/$side/"
    docker cp -q "$container:/app/stages" "$work/$side/stages"
  done
  docker rm "$container" >/dev/null
  echo "[same-output] docker: make data RUNNER=docker in $work/docker"
  (cd "$work/docker" && timed make --no-print-directory data RUNNER=docker IMAGE_PREFIX="$prefix" \
     IMAGE_TAG="$tag" MEDTUNE_SHARED_DATA="$shared")
  echo "[same-output] local: make data in $work/local"
  (cd "$work/local" && timed make --no-print-directory data RUNNER=local VENV="$repo/.venv" STAGE_DEPS= \
     MEDTUNE_SHARED_DATA="$shared")
  compare "data/processed/*.jsonl"
  ;;
gguf)
  src="$("$repo/.venv/bin/python" -c 'from medtune.llamacpp import source_dir; print(source_dir())')"
  model="$("$repo/.venv/bin/python" -c 'from medtune.models import prepare; print(prepare("smollm2-135m"))')"
  mkdir -p "$work/local" "$work/docker"
  chmod 777 "$work/docker"
  echo "[same-output] docker: convert_hf_to_gguf.py in ${prefix}converter:${tag}"
  timed docker run --rm --network none --user "$(id -u):$(id -g)" -v "$work/docker:/out" "${prefix}converter:${tag}" \
    bash -c 'python /opt/llama.cpp/src/convert_hf_to_gguf.py "$(python -c "from medtune.models import prepare; print(prepare(\"smollm2-135m\"))")" \
             --outtype q8_0 --outfile /out/smollm2-135m-q8_0.gguf && llama-quantize --allow-requantize /out/smollm2-135m-q8_0.gguf /out/quantize-check-q4_k_m.gguf q4_k_m >/dev/null 2>&1 && ls -l /out'
  echo "[same-output] local: convert_hf_to_gguf.py from $src"
  timed env PYTHONPATH="$src/gguf-py" "$repo/.venv/bin/python" "$src/convert_hf_to_gguf.py" "$model" \
    --outtype q8_0 --outfile "$work/local/smollm2-135m-q8_0.gguf"
  compare "smollm2-135m-q8_0.gguf"
  ;;
esac
