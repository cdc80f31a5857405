"""The asynchronous reference for the AMQP throughput bench: a Python `pika` worker on its
asynchronous `SelectConnection`, doing the same work as jambo-worker on a no-op job: consume with
manual acks and a prefetch window, parse the job JSON, publish a result event with publisher
confirms, and acknowledge each job once its result is confirmed (many jobs in flight at once,
as jambo-worker has them).

Usage: bench_pika_async.py AMQP_URL QUEUE EVENTS_EXCHANGE COUNT PREFETCH
"""
import collections
import sys

import pika

from bench_pika import result_event


def main():
    url, queue, events, count, prefetch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    # (publish sequence number, delivery tag) of every job whose result is not confirmed yet
    pending = collections.deque()
    state = {"channel": None, "published": 0, "done": 0}

    def on_message(channel, method, _props, body):
        channel.basic_publish(events, "test.done", result_event(body), properties)
        state["published"] += 1
        pending.append((state["published"], method.delivery_tag))

    def on_confirm(frame):
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            raise SystemExit("a result was nacked")
        confirmed = []
        if method.multiple:
            while pending and pending[0][0] <= method.delivery_tag:
                confirmed.append(pending.popleft())
        elif pending and pending[0][0] == method.delivery_tag:
            confirmed.append(pending.popleft())
        else:
            # a single confirm out of order: find it (RabbitMQ confirms in order in practice)
            for entry in list(pending):
                if entry[0] == method.delivery_tag:
                    pending.remove(entry)
                    confirmed.append(entry)
        if not confirmed:
            return
        channel = state["channel"]
        if method.multiple:
            channel.basic_ack(confirmed[-1][1], multiple=True)
        else:
            for _, tag in confirmed:
                channel.basic_ack(tag)
        state["done"] += len(confirmed)
        if state["done"] >= count:
            connection.close()

    def on_channel(channel):
        state["channel"] = channel
        channel.confirm_delivery(on_confirm)
        channel.basic_qos(
            prefetch_count=prefetch,
            callback=lambda _frame: channel.basic_consume(queue, on_message, auto_ack=False),
        )

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_close_callback=lambda conn, _reason: conn.ioloop.stop(),
    )
    connection.ioloop.start()


if __name__ == "__main__":
    main()
