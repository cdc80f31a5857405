"""The reference for the AMQP throughput bench: a Python `pika` worker doing the same work as
jambo-worker on a no-op job: consume with manual acks, parse the job JSON, publish a result
event with publisher confirms, then acknowledge.

Usage: bench_pika.py AMQP_URL QUEUE EVENTS_EXCHANGE COUNT PREFETCH
"""
import json
import sys

import pika


def result_event(body):
    """The result event of a no-op job, as bytes (the work both pika workers do per job)."""
    job = json.loads(body)
    event = {
        "v": 1,
        "job_id": job["id"],
        "type": "test.done",
        "tenant_id": job["tenant_id"],
        "result": {"attempt": 1},
        "privacy": {"redactions": {}, "external_ai": False, "provider": None, "training_opt_in": False},
    }
    return json.dumps(event).encode()


def main():
    url, queue, events, count, prefetch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    connection = pika.BlockingConnection(pika.URLParameters(url))
    consume = connection.channel()
    consume.basic_qos(prefetch_count=prefetch)
    publish = connection.channel()
    publish.confirm_delivery()
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    done = 0
    for method, _props, body in consume.consume(queue, auto_ack=False):
        publish.basic_publish(events, "test.done", result_event(body), properties)
        consume.basic_ack(method.delivery_tag)
        done += 1
        if done == count:
            break
    consume.cancel()
    connection.close()


if __name__ == "__main__":
    main()
