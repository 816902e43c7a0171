from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark and soak harness's commands; installed by this repository's settings only."""

    name = "bench"
    label = "sagaops_bench"
