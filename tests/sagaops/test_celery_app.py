"""What `sagaops.celery.configure` installs in a project's Celery app."""

import gc

from celery import Celery, signals

from sagaops.celery import configure


def test_a_workers_startup_objects_are_frozen_out_of_the_garbage_collectors_walks():
    configure(Celery("embedding-project"))
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        signals.worker_process_init.send(sender=None)  # a prefork child, after its fork
        assert gc.get_freeze_count() > 10_000  # Django, the app, the definitions
    finally:
        gc.unfreeze()


def test_the_engine_defaults_give_way_to_the_projects_own_settings():
    app = Celery("embedding-project")
    app.conf.task_acks_late = False
    configure(app)
    assert app.conf.task_acks_late is False
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True
