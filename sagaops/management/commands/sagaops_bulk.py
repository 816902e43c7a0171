"""One operator action on every saga a filter selects, at a rate, from the shell.

    manage.py sagaops_bulk --filter status=stuck --filter type=order.checkout --action retry \\
        --rate 50 --reason "payments is back" --as alice [--step NAME] [--preview] [--yes]
    manage.py sagaops_bulk --follow | --pause | --resume | --cancel BULK_ID --as alice [--reason ...]

The filter is the saga list's (`GET /api/sagas/`'s query parameters); `--preview` prints the count,
the first sagas and what the action would do to each, and starts nothing. Without `--yes` it asks
before it starts. The run itself is the workers' (the same job as the console's and the API's):
this command starts it and follows it with a progress bar; Ctrl-C stops following, not the run.
"""

from __future__ import annotations

import sys
import time
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sagaops.bulk_selectors import bulk_get, bulk_outcomes, bulk_preview
from sagaops.console.heartbeat import live_workers
from sagaops.exceptions import ActionRefused, NotPermitted
from sagaops.models import BulkAction, Saga
from sagaops.redis import get_redis
from sagaops.selection import InvalidFilter
from sagaops.services.bulk import (
    bulk_action_spec,
    bulk_cancel,
    bulk_pause,
    bulk_resume,
    bulk_start,
    selection_from,
)

BAR = 30
POLL = 0.5


def filter_pairs(pairs: list[str]) -> dict[str, str]:
    """["status=stuck", "type=order.checkout"] -> {"status": "stuck", "type": "order.checkout"}."""
    filters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--filter {pair!r}: write it as name=value, e.g. --filter status=stuck")
        filters[name.strip()] = value
    return filters


def progress_line(bulk: BulkAction, counts: dict[str, int], rate: float) -> str:
    done = bulk.total - counts["pending"]
    filled = BAR * done // bulk.total if bulk.total else BAR
    return (
        f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{bulk.total} {bulk.status} · applied {counts['applied']}"
        f" · refused {counts['refused']} · failed {counts['failed']} · {rate:.1f}/s"
    )


class Command(BaseCommand):
    help = "Preview, start and follow a bulk action over a saga filter; pause, resume or cancel one."

    def add_arguments(self, parser):
        parser.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--action", help="retry, compensate, retry_compensation, resolve, skip_step, ...")
        parser.add_argument("--step", default="", help="for skip_step and compensation_done")
        parser.add_argument("--rate", type=float, default=None, help="sagas per second")
        parser.add_argument("--reason", default="")
        parser.add_argument("--as", dest="username", required=True, help="the operator acting")
        parser.add_argument("--preview", action="store_true", help="say what it would do; start nothing")
        parser.add_argument("--limit", type=int, default=10, help="sagas listed by the preview")
        parser.add_argument("--yes", action="store_true", help="start without asking")
        verbs = parser.add_mutually_exclusive_group()
        for verb in ("follow", "pause", "resume", "cancel"):
            verbs.add_argument(f"--{verb}", metavar="BULK_ID", help=f"{verb} a bulk action")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}: add one with `sagaops_operator add NAME --repair`")
        for verb in ("pause", "resume", "cancel"):
            if options[verb]:
                return self.act(verb, options[verb], user, options)
        if options["follow"]:
            return self.follow(self.bulk(options["follow"]))
        return self.start(user, options)

    def start(self, user, options) -> None:
        if not options["action"]:
            raise CommandError("--action is required (retry, compensate, retry_compensation, resolve, ...)")
        try:
            spec = bulk_action_spec(user=user, action=options["action"], step=options["step"])
            selection = selection_from(filters=filter_pairs(options["filter"]))
        except InvalidFilter as error:
            raise CommandError(f"--filter {error}") from None
        except (ActionRefused, NotPermitted) as error:
            raise CommandError(str(error)) from None
        self.print_preview(spec.name, options, selection)
        if options["preview"]:
            return
        if options["rate"] is None or not options["reason"].strip():
            raise CommandError("--rate and --reason are required to start (or pass --preview)")
        if not options["yes"]:
            self.confirm(f"Start {spec.name} at {options['rate']:g}/s?")
        try:
            bulk = bulk_start(
                user=user, action=spec.name, reason=options["reason"], rate=options["rate"], selection=selection,
                readable=Saga.objects.all(), step=options["step"],
            )  # fmt: skip
        except ActionRefused as error:
            raise CommandError(f"refused: {error}") from None
        self.stdout.write(f"bulk action {bulk.pk} started on {bulk.total} saga(s)")
        if not live_workers(get_redis()):
            self.stderr.write("no live Celery worker: the run starts when one is running")
        self.follow(bulk)

    def print_preview(self, action: str, options, selection) -> None:
        preview = bulk_preview(
            action=action, step=options["step"], selection=selection, readable=Saga.objects.all(),
            limit=max(1, options["limit"]),
        )  # fmt: skip
        self.stdout.write(f"{preview.count} saga(s) selected; the first {len(preview.rows)}:")
        for row in preview.rows:
            verdict = "apply " if row.verdict == "apply" else f"refuse: {row.reason}"
            self.stdout.write(f"  {row.saga.pk} {row.saga.type} {row.saga.status:<12} {verdict}")

    def confirm(self, question: str) -> None:
        if not sys.stdin.isatty():
            raise CommandError("pass --yes to start without a terminal to ask on")
        if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
            raise CommandError("not started")

    def follow(self, bulk: BulkAction) -> None:
        started, first = time.monotonic(), bulk.processed
        try:
            while True:
                bulk = bulk_get(bulk_id=bulk.pk)
                rate = (bulk.processed - first) / max(time.monotonic() - started, 1e-6)
                self.stdout.write("\r" + progress_line(bulk, bulk_outcomes(bulk), rate), ending="")
                self.stdout.flush()
                if bulk.status != BulkAction.Status.RUNNING:
                    break
                time.sleep(POLL)
        except KeyboardInterrupt:
            self.stdout.write(f"\nstopped following; the run goes on (--pause {bulk.pk} to pause it)")
            return
        self.stdout.write("")
        if bulk.status == BulkAction.Status.PAUSED:
            self.stdout.write(f"paused: --resume {bulk.pk} to go on")

    def act(self, verb: str, bulk_id: str, user, options) -> None:
        bulk = self.bulk(bulk_id)
        verbs = {"pause": bulk_pause, "resume": bulk_resume, "cancel": bulk_cancel}
        extra = {"rate": options["rate"]} if verb == "resume" and options["rate"] is not None else {}
        try:
            bulk_action_spec(user=user, action=bulk.action)
            bulk = verbs[verb](bulk_id=bulk.pk, user=user, reason=options["reason"], **extra)
        except (ActionRefused, NotPermitted) as error:
            raise CommandError(f"{verb} refused: {error}") from None
        self.stdout.write(f"bulk action {bulk.pk} is {bulk.status}")

    def bulk(self, bulk_id: str) -> BulkAction:
        try:
            bulk = bulk_get(bulk_id=uuid.UUID(bulk_id))
        except ValueError:
            bulk = None
        if bulk is None:
            raise CommandError(f"no bulk action {bulk_id!r}")
        return bulk
