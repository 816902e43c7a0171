"""What `sagaops.celery.configure` installs in a project's Celery app."""

from celery import Celery

from sagaops.celery import configure


def test_the_engine_defaults_give_way_to_the_projects_own_settings():
    app = Celery("embedding-project")
    app.conf.task_acks_late = False
    configure(app)
    assert app.conf.task_acks_late is False
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True
