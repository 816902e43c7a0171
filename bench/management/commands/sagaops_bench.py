"""Benchmark the engine against a bare Celery chain (`make bench`); see docs/PERFORMANCE.md."""

import logging

from django.core.management.base import BaseCommand, CommandError

from bench.report import run_benchmark
from bench.runner import BenchError


class Command(BaseCommand):
    help = (
        "Run N sagas of 4 local steps through one Celery worker, then the same steps as a bare Celery "
        "chain, then both at half the engine's maximum rate; print throughput, latency and the "
        "engine's cost per step. Empties the benchmark's own database and Redis databases first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sagas", type=int, default=500, help="sagas (and chains) per burst (default 500)")
        parser.add_argument("--rate-seconds", type=float, default=20, help="seconds each paced run lasts (default 20)")
        parser.add_argument("--sample", type=int, default=50, help="sagas in the in-process sample (default 50)")
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the sample")

    def handle(self, *args, sagas, rate_seconds, sample, concurrency, profile, **options):
        if sagas < 1 or sample < 1 or rate_seconds <= 0:
            raise CommandError("--sagas and --sample must be at least 1, --rate-seconds above 0")
        # The engine logs each saga's start and end at INFO: keep them in the worker's log, not here.
        logging.getLogger("sagaops.events").setLevel(logging.WARNING)
        try:
            run_benchmark(
                sagas=sagas,
                rate_seconds=rate_seconds,
                sample=sample,
                concurrency=concurrency,
                profile=profile,
                write=self.stdout.write,
            )
        except BenchError as error:
            raise CommandError(str(error)) from None
