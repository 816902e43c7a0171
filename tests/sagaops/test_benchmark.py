"""The benchmark's pure helpers and its in-process counters (no timings asserted here)."""

import math
from collections import Counter

import pytest

from bench import flows
from bench.probes import Counts, Probe
from bench.runner import redis_db
from bench.stats import Latency, per, percentile, rate, ratio
from sagaops.redis import get_redis
from sagaops.services import saga_advance, saga_start


def test_percentile_interpolates_between_ranks():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 0) == 10
    assert percentile([10, 20, 30, 40, 50], 100) == 50
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48)


def test_percentile_ignores_input_order():
    assert percentile([5, 1, 4, 2, 3], 50) == 3


def test_percentile_of_one_value_is_that_value():
    assert percentile([7.5], 99) == 7.5


@pytest.mark.parametrize("values, pct", [([], 50), ([1], -1), ([1], 101)])
def test_percentile_refuses_nonsense(values, pct):
    with pytest.raises(ValueError):
        percentile(values, pct)


def test_latency_summary_is_in_milliseconds():
    summary = Latency.of([0.010, 0.020, 0.030])
    assert (summary.count, summary.p50, summary.max) == (3, pytest.approx(20), pytest.approx(30))


def test_latency_of_nothing_is_nan_not_an_error():
    assert math.isnan(Latency.of([]).p99)


def test_rates_and_ratios_do_not_divide_by_zero():
    assert rate(10, 2) == 5
    assert math.isnan(rate(10, 0))
    assert ratio(3, 2) == 1.5 and math.isnan(ratio(1, 0))
    assert per(6, 3) == 2 and math.isnan(per(1, 0))


@pytest.mark.parametrize(
    "url, db",
    [("redis://127.0.0.1:6379/5", 5), ("redis://127.0.0.1:6379", 0), ("redis://h:6379/4?timeout=1", 4)],
)
def test_redis_db_is_read_from_the_url(url, db):
    assert redis_db(url) == db


def test_counts_add_and_subtract_field_by_field():
    a = Counts(3, 5, 1, Counter({1: 2}), 2)
    b = Counts(1, 2, 1, Counter({1: 1, 0: 1}), 1)
    assert a + b == Counts(4, 7, 2, Counter({1: 3, 0: 1}), 3)
    assert (a + b) - b == a


@pytest.mark.django_db(transaction=True)
def test_probe_counts_a_run_of_local_steps_as_a_claim_and_one_commit():
    # given a started benchmark saga (its advance task is left in the broker, no worker runs here)
    saga, _ = saga_start(saga_type=flows.SAGA_TYPE, payload={})
    # when it is advanced in this process under the probe
    with Probe() as probe:
        saga_advance(saga_id=saga.pk)
    counts = probe.snapshot()
    # then: one load; the first step's claim committed on its own (so a crash is counted), one
    # statement in autocommit that does not wait for its flush; then per step a savepoint (kept, not released) and one write (the saga
    # row written once, with the last step), and one commit for the whole run
    steps = len(flows.STEP_NAMES)
    assert counts.queries == 1 + 1 + 2 * steps
    assert counts.commits == 2
    assert counts.db_round_trips == 1 + 1 + 2 * steps + 2  # the load, the claim, the run's BEGIN and COMMIT
    # lock, unlock, the claim mirrored (EVALSHA + ZADD of its lease), the run mirrored (EVALSHA + ZREM)
    assert sum(counts.redis_commands.values()) == 6


@pytest.mark.django_db(transaction=True)
def test_probe_counts_a_start_as_one_statement_that_commits_by_itself():
    with Probe() as probe:
        saga_start(saga_type=flows.SAGA_TYPE, payload={})
    counts = probe.snapshot()
    assert (counts.queries, counts.commits, counts.db_round_trips) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_probe_restores_what_it_wrapped():
    from django.db import connections

    with Probe():
        pass
    assert "commit" not in connections["default"].__dict__
    get_redis().ping()
