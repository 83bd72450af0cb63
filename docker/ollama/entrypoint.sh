#!/usr/bin/env bash
# Start `ollama serve`, create the model from $MEDTUNE_MODEL_DIR/Modelfile once it answers, then keep
# serving. The Modelfile's FROM points at the GGUF beside it (relative path), so the folder is mounted whole.
set -euo pipefail
modelfile="${MEDTUNE_MODEL_DIR}/Modelfile"
[ -f "$modelfile" ] || { echo "error: $modelfile not found: mount the export stage's output folder at ${MEDTUNE_MODEL_DIR}" >&2; exit 2; }
ollama serve &
server=$!
trap 'kill "$server" 2>/dev/null || true' TERM INT
for _ in $(seq 1 60); do
  ollama list >/dev/null 2>&1 && break
  sleep 1
done
cd "$MEDTUNE_MODEL_DIR"
ollama create "$MEDTUNE_OLLAMA_MODEL" -f Modelfile
echo "[ollama] model '$MEDTUNE_OLLAMA_MODEL' ready on $OLLAMA_HOST (OpenAI route: /v1/chat/completions)"
wait "$server"
