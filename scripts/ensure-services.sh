#!/usr/bin/env bash
# Starts what the tests need when it is not running: PostgreSQL (the shared state backend) and
# RabbitMQ. The tests fail, not skip, without them.
set -euo pipefail
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  echo "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for cluster in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do
      pg_ctlcluster "${cluster%/*}" "${cluster#*/}" start || true
    done
  else
    service postgresql start || true
  fi
  for _ in $(seq 1 30); do
    pg_up && break
    sleep 1
  done
  pg_up || { echo "PostgreSQL is not accepting connections on 127.0.0.1:5432" >&2; exit 1; }
fi
if ! rabbitmqctl status >/dev/null 2>&1; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached
  for _ in $(seq 1 90); do
    rabbitmqctl status >/dev/null 2>&1 && break
    sleep 1
  done
  rabbitmqctl status >/dev/null 2>&1 || { echo "RabbitMQ did not start" >&2; exit 1; }
fi
# The broker accepts connections a moment after `status` answers.
for _ in $(seq 1 30); do
  (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && exit 0
  sleep 1
done
echo "RabbitMQ is not listening on 127.0.0.1:5672" >&2
exit 1
