#!/usr/bin/env bash
# No-op jobs through RabbitMQ with confirms and acks: jambo-worker next to a Python pika worker,
# in one run, on this machine's broker. Installs pika into a venv under target/.
# Usage: scripts/bench-amqp.sh [JOBS]   (AMQP_ADDR overrides the broker URL)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "pika==1.3.2"
fi
export BENCH_PYTHON="$PWD/$venv/bin/python"
export BENCH_JOBS="${1:-20000}"
cargo bench --bench amqp_throughput
