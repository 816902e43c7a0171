"""Benchmark one PostgreSQL primary at a million sagas a day (`make bench-scale`); see docs/PERFORMANCE.md."""

import logging

from django.core.management.base import BaseCommand, CommandError

from bench.runner import BenchError
from bench.scale import run_scale_benchmark


class Command(BaseCommand):
    help = (
        "Seed N sagas in the states a real day leaves, then measure storage per saga, HOT updates, prune, "
        "tick drain, reconcile and mirror rebuild. Empties its own database first (sagaops_bench_scale)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sagas", type=int, default=100_000, help="sagas to seed (default 100000)")
        parser.add_argument("--million", action="store_true", help="seed 1,000,000 sagas")
        parser.add_argument("--sample", type=int, default=500, help="real sagas run in-process (default 500)")
        parser.add_argument("--active", type=int, help="of them active with timers (default: a fifth)")
        parser.add_argument("--timers", type=int, default=50_000, help="due timers for the drain (default 50000)")

    def handle(self, *args, sagas, million, sample, active, timers, **options):
        sagas = 1_000_000 if million else sagas
        active = sagas // 5 if active is None else active
        if sagas < 1000 or sample < 20 or timers < 1 or not 0 <= active <= sagas // 2:
            raise CommandError("--sagas at least 1000, --sample at least 20, --timers at least 1, --active 0..sagas/2")
        engine_log = logging.getLogger("sagaops")
        level = engine_log.level
        engine_log.setLevel(logging.ERROR)  # the sample's declined sagas log warnings
        try:
            run_scale_benchmark(sagas=sagas, sample=sample, active=active, timers=timers, write=self.stdout.write)
        except BenchError as error:
            raise CommandError(str(error)) from None
        finally:
            engine_log.setLevel(level)
