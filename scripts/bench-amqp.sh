#!/usr/bin/env bash
# Jobs through RabbitMQ with confirms and acks, every contender in one run on this machine's
# broker and PostgreSQL: jambo-worker with the embedded store and with the PostgreSQL state
# backend, next to Python pika workers (blocking and asynchronous); then leads of the fixture
# tenant through one replica and through three. Installs pika into a venv under target/.
# Usage: scripts/bench-amqp.sh [JOBS] [LEADS]   (AMQP_ADDR, BENCH_POSTGRES_URL override the services)
# Built like the other benches: the dev profile with dependencies at opt-level 2 and the crate at
# opt-level 3 (a cold release build of the whole tree takes far longer on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "pika==1.3.2"
fi
export BENCH_PYTHON="$PWD/$venv/bin/python"
export BENCH_JOBS="${1:-20000}"
export BENCH_LEADS="${2:-3000}"
cargo test --bench amqp_throughput --config 'profile.dev.package.jambo-worker.opt-level=3'
