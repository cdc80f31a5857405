#!/usr/bin/env bash
# Starts what the tests need when it is not running: RabbitMQ (the tests fail, not skip, without it).
set -euo pipefail
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
