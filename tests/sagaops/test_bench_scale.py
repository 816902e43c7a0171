"""The scale benchmark empties its database: it refuses any database but its own, in one line."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_the_scale_benchmark_refuses_a_database_that_is_not_a_benchmark_one():
    with pytest.raises(CommandError, match="is not a benchmark database"):
        call_command("sagaops_bench_scale", "--sagas", "1000")


@pytest.mark.parametrize("args", [["--sagas", "10"], ["--sample", "1"], ["--timers", "0"], ["--active", "-1"]])
def test_the_scale_benchmark_rejects_bad_sizes(args):
    with pytest.raises(CommandError, match="--sagas at least 1000"):
        call_command("sagaops_bench_scale", *args)
