"""Run calls at the same moment from several threads, each on its own database connection."""

import threading
from collections.abc import Callable
from typing import Any


def run_concurrently(*calls: Callable[[], Any]) -> list[Any]:
    """Each call's return value, or the exception it raised, in call order."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # the outcome, error or not, is what the test checks
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
