"""django-redis on a Redis Cluster: the cache (login throttling) when REDIS_URL is `redis+cluster://`.

django-redis has no cluster client of its own; its default client works once the connection is a
`RedisCluster`, except that it reads several keys with one MGET, which a cluster refuses when the
keys live in different slots.
"""

from django_redis.pool import ConnectionFactory
from redis.cluster import RedisCluster

from sagaops.redis import node_url


class CacheCluster(RedisCluster):
    def mget(self, *keys, **kwargs):
        return self.mget_nonatomic(*keys)


class ClusterConnectionFactory(ConnectionFactory):
    def connect(self, url: str) -> CacheCluster:
        return CacheCluster.from_url(node_url(url), health_check_interval=30)

    def disconnect(self, connection: CacheCluster) -> None:
        connection.close()
