"""The Redis broker transport: kombu's, with the one guard a worker needs to outlive a Redis outage.

With kombu 5.7.0 (the latest release) a worker that loses Redis while it holds an unacknowledged
message (``acks_late`` tasks under load: nearly always) can die with ``Unrecoverable error:
AttributeError("'NoneType' object has no attribute 'hostname'")`` instead of reconnecting. The
consumer's ``on_connection_error_after_connected`` first calls ``Connection.collect()``, whose
channel close is cut short by the dead socket (``_brpop_read`` raises) and which then detaches the
transport from its connection (``transport.client = None``); the consumer's ``connection.close()``
then closes the channel again, its QoS tries to restore the unacknowledged message, the pool is
rebuilt from ``transport.client`` and the ``AttributeError`` escapes every handler, which only
ignore connection errors. The same failure as celery/kombu#582 (closed 2016), reached by a new
path. Decision record: docs/decisions/0007-workers-and-beat-ride-out-redis.md.

Raising the connection error the situation is (no connection) lets kombu's own handlers do what
they do for any lost connection: the close is abandoned, the consumer reconnects with its retry
policy, and the message comes back to the queue after the visibility timeout (the notification
sweeper re-queues its row long before that; see docs/operations.md).
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            logger.warning(
                "broker: a channel closed after its connection was collected; its unacknowledged "
                "messages come back after the visibility timeout"
            )
            raise RedisConnectionError("the broker connection was already collected")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
