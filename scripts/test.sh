#!/usr/bin/env bash
# All the tests: starts the services they need, then runs unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-services.sh
cargo test "$@"
