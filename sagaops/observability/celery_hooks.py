"""Celery signals: bind the saga of a task for its log lines, and clean up after an exited child."""

from __future__ import annotations

import os
from contextvars import Token

from celery import signals

from sagaops.observability import context, metrics

# Tasks whose first argument is a saga id.
SAGA_TASKS = {"sagaops.tasks.advance", "sagaops.observability.tasks.alert_saga"}
_tokens: dict[str, Token] = {}


def _task_prerun(task_id=None, task=None, args=(), **kwargs) -> None:
    if task is not None and task.name in SAGA_TASKS and args:
        _tokens[task_id] = context._current.set(context.LogContext(saga_id=str(args[0])))


def _task_postrun(task_id=None, **kwargs) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        context._current.reset(token)


def _process_shutdown(**kwargs) -> None:
    metrics.mark_process_dead(os.getpid())


def connect() -> None:
    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid="sagaops-observability-prerun")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="sagaops-observability-postrun")
    signals.worker_process_shutdown.connect(_process_shutdown, weak=False, dispatch_uid="sagaops-observability-exit")
