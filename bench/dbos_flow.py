"""The peer: the same four trivial steps as a DBOS workflow, on a database of its own.

Run by the benchmark as a subprocess (`python -m bench.dbos_flow URL N MODE`), away
from Django; it prints one JSON line. DBOS executes workflows in the process that starts them (a
thread pool), checkpointing each step in its system database. MODE is

- **submit** (run first: its launch creates the system tables): 4 threads start N workflows
  directly (`DBOS.start_workflow`) while it runs, as the engine's submitters do; timed from the
  first start to the last workflow's end;
- **drain**: N workflows are enqueued with a `DBOSClient` before DBOS launches, then the launched
  process empties its queue; timed from the launch to the last workflow's end.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from dbos import DBOS, DBOSClient

SUBMITTERS = 4
QUEUE = "bench"
STEP_NAMES = ("a", "b", "c", "d")


@DBOS.step()
def touch(name: str) -> dict:
    return {"ok": 1}


@DBOS.workflow()
def four_steps(i: int) -> float:
    for name in STEP_NAMES:
        touch(name)
    return time.time()


def drain(url: str, count: int) -> float:
    client = DBOSClient(system_database_url=url)
    handles = [client.enqueue({"queue_name": QUEUE, "workflow_name": "four_steps"}, i) for i in range(count)]
    began = time.time()
    DBOS.launch()
    DBOS.register_queue(QUEUE, polling_interval_sec=0.01)
    finished = [handle.get_result(polling_interval_sec=0.05) for handle in handles]
    client.destroy()
    return count / (max(finished) - began)


def submit(count: int) -> float:
    handles: list = []
    began = time.time()

    def submitter(offset: int) -> None:
        for i in range(offset, count, SUBMITTERS):
            handles.append(DBOS.start_workflow(four_steps, i))

    threads = [threading.Thread(target=submitter, args=(k,)) for k in range(SUBMITTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = [handle.get_result() for handle in handles]
    return count / (max(finished) - began)


def main(url: str, count: int, mode: str) -> None:
    DBOS(config={"name": "sagaops-bench", "system_database_url": url, "log_level": "WARNING"})
    if mode == "drain":  # after a `submit` run: its launch created the system tables
        per_second = drain(url, count)
    else:
        DBOS.launch()
        per_second = submit(count)
    DBOS.destroy()
    print(json.dumps({mode: per_second}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
