"""`manage.py sagaops_bench`: the engine against a bare Celery chain, side by side in one run.

flows   - the benchmark's saga (4 trivial local steps) and the same 4 steps as Celery tasks
stats   - pure helpers: percentiles, rates, the printed table
probes  - in-process counters: SQL queries, commits, Redis commands, CPU time
runner  - the worker process, the bursts, the paced mode and the report
"""
