"""Observability: Prometheus metrics, logs that carry the saga's ids, and alerts to operators."""

# Where every process of one host writes its metric files (prometheus_client multiprocess mode).
DEFAULT_MULTIPROC_DIR = "/tmp/sagaops-prometheus"
