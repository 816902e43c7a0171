"""Publishing many tasks at once: one pipelined round trip on the Redis broker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kombu.transport.redis import Channel as RedisChannel


@contextmanager
def pipelined_publish(producer) -> Iterator[None]:
    """Queue every publish made through `producer` inside the block and send them in one pipeline.

    kombu's Redis transport sends each message as its own LPUSH and waits for the reply; for a
    batch of advances that round trip is half the cost. Its channel takes the client for each put
    from `conn_or_acquire`, so for the block that hands out one pipeline instead. Another
    transport (RabbitMQ: publishing does not wait for a reply) publishes as usual.
    """
    channel = producer.channel
    if not isinstance(channel, RedisChannel):
        yield
        return
    pipe = channel._create_client().pipeline(transaction=False)

    @contextmanager
    def the_pipeline(client=None):
        yield pipe

    channel.conn_or_acquire = the_pipeline
    try:
        yield
    finally:
        del channel.conn_or_acquire  # back to the class's method
    pipe.execute()
