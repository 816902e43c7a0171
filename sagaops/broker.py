"""The Celery settings that depend on which broker CELERY_BROKER_URL names (docs/SCALING.md).

Both brokers get late acknowledgements, prefetch 1 and a re-queue when a worker is lost (settings).
What differs:

- **Redis** keeps an unacknowledged task aside and redelivers it after the visibility timeout,
  which must exceed the longest step.
- **RabbitMQ** has no visibility timeout: a task is redelivered when the connection of the
  worker holding it closes, so the heartbeat decides how soon a lost host's task comes back. The
  queue is a quorum queue (replicated with Raft, durable), publishes wait for the broker's
  confirm, and the exchange is a topic exchange so that Celery's native delayed delivery carries
  countdowns (a quorum queue has no per-message TTL; a direct exchange would hold them in a worker).
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue

AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
# The default queue, and the timer tasks' own queue (a backlog of advances cannot delay a tick).
QUEUE_NAMES = ("celery", "sagaops.timers")


def is_amqp(url: str) -> bool:
    return url.split("://", 1)[0] in AMQP_SCHEMES


@dataclass(frozen=True)
class BrokerOptions:
    transport_options: dict
    queue_type: str
    exchange_type: str
    heartbeat: float

    def task_queues(self) -> tuple[Queue, ...]:
        """The queues, declared as the broker needs them: on RabbitMQ each is a quorum queue behind
        its own topic exchange (what Celery declares for its default queue), on Redis a list."""
        if self.queue_type != "quorum":
            return tuple(Queue(name) for name in QUEUE_NAMES)
        quorum = {"x-queue-type": "quorum"}
        return tuple(
            Queue(name, Exchange(name, type=self.exchange_type), routing_key=name, queue_arguments=quorum)
            for name in QUEUE_NAMES
        )

    def as_celery_conf(self) -> dict[str, object]:
        """The same values under the names of `app.conf`."""
        return {
            "broker_transport_options": self.transport_options,
            "task_default_queue_type": self.queue_type,
            "task_default_exchange_type": self.exchange_type,
            "broker_heartbeat": self.heartbeat,
            "task_queues": self.task_queues(),
        }


def broker_options(url: str, *, visibility_timeout: int, heartbeat: float) -> BrokerOptions:
    if is_amqp(url):
        return BrokerOptions(
            transport_options={"confirm_publish": True},
            queue_type="quorum",
            exchange_type="topic",
            heartbeat=heartbeat,
        )
    return BrokerOptions(
        transport_options={"visibility_timeout": visibility_timeout},
        queue_type="classic",
        exchange_type="direct",
        heartbeat=heartbeat,
    )
