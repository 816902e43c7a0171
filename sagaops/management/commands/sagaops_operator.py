"""Operators from the shell, for when the web is down or a script must act.

    manage.py sagaops_operator add NAME --repair | --view     a console user in the operator group
    manage.py sagaops_operator stuck [--limit N]               the sagas that need a human
    manage.py sagaops_operator show SAGA_ID                    one saga, its steps, the repairs it accepts
    manage.py sagaops_operator repair SAGA_ID ACTION --as USER --reason TEXT [--step NAME]

A repair runs the same service as the console's button and the API (same rules, same fence, same
audit on the timeline and in the admin log), in the name of the operator given with `--as`.
"""

from __future__ import annotations

import secrets
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sagaops.console.actions import ACTIONS, acceptable
from sagaops.console.groups import REPAIR_GROUP, VIEW_GROUP, ensure_operator_groups
from sagaops.console.selectors import stuck_q
from sagaops.exceptions import ActionRefused
from sagaops.models import Saga, SagaStep


class Command(BaseCommand):
    help = "Add operators, list stuck sagas and repair them from the shell."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        add = commands.add_parser("add", help="create (or update) a console user in an operator group")
        add.add_argument("name")
        role = add.add_mutually_exclusive_group(required=True)
        role.add_argument("--repair", action="store_true", help=f'the "{REPAIR_GROUP}" group')
        role.add_argument("--view", action="store_true", help=f'the "{VIEW_GROUP}" group')
        add.add_argument("--email", default="")
        stuck = commands.add_parser("stuck", help="list stuck and stalled sagas, oldest first")
        stuck.add_argument("--limit", type=int, default=50)
        show = commands.add_parser("show", help="one saga, its steps and the repairs it accepts now")
        show.add_argument("saga_id")
        repair = commands.add_parser("repair", help="run a repair: " + ", ".join(ACTIONS))
        repair.add_argument("saga_id")
        repair.add_argument("action", choices=sorted(ACTIONS))
        repair.add_argument("--as", dest="username", required=True, help="the operator acting")
        repair.add_argument("--reason", required=True)
        repair.add_argument("--step", default="", help="for skip_step, compensation_done and retry_branch")

    def handle(self, *args, command: str, **options):
        getattr(self, f"do_{command}")(**options)

    def do_add(self, *, name: str, repair: bool, email: str, **_):
        ensure_operator_groups()
        group = Group.objects.get(name=REPAIR_GROUP if repair else VIEW_GROUP)
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=name, defaults={"email": email, "is_staff": True})
            password = None
            if created:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
            user.is_staff = True
            user.save()
            user.groups.remove(*Group.objects.filter(name__in=(VIEW_GROUP, REPAIR_GROUP)))
            user.groups.add(group)
        self.stdout.write(f"{name}: {'created' if created else 'updated'}, in group {group.name!r}")
        if password:
            self.stdout.write(f"password (shown once): {password}")

    def do_stuck(self, *, limit: int, **_):
        sagas = list(Saga.objects.filter(stuck_q()).order_by("updated_at")[:limit])
        if not sagas:
            self.stdout.write("no saga needs attention")
            return
        for saga in sagas:
            reason = (saga.attention_reason or saga.last_error or "no progress")[:100]
            since = saga.updated_at.isoformat(timespec="seconds")
            code = saga.attention_code or "-"
            self.stdout.write(f"{saga.pk}  {saga.type}  {saga.status}  since {since}  {code}  {reason}")

    def do_show(self, *, saga_id: str, **_):
        saga = _saga(saga_id)
        steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
        self.stdout.write(f"{saga.pk} {saga.type} v{saga.definition_version}: {saga.status} (version {saga.version})")
        if saga.attention_reason:
            self.stdout.write(f"needs attention ({saga.attention_code or '-'}): {saga.attention_reason}")
        for step in steps:
            error = f"  {step.last_error[:80]}" if step.last_error else ""
            self.stdout.write(f"  {step.index} {step.name}: {step.status}, attempt {step.attempts}{error}")
        repairs = [f"{name} {step}".strip() for name, step in acceptable(saga, steps)]
        self.stdout.write("repairs accepted now: " + (", ".join(repairs) or "none"))

    def do_repair(self, *, saga_id: str, action: str, username: str, reason: str, step: str, **_):
        saga = _saga(saga_id)
        spec = ACTIONS[action]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}: add one with `sagaops_operator add {username} --repair`")
        if not spec.allowed(user):
            raise CommandError(f"{username} may not {spec.label.lower()}: it needs the permission {spec.perm}")
        if spec.per_step and not step:
            raise CommandError(f"{action} needs --step")
        try:
            saga = spec.run(saga_id=saga.pk, user=user, reason=reason, expected_version=None, step=step)
        except ActionRefused as error:
            raise CommandError(f"refused: {error}") from None
        self.stdout.write(f"{spec.label}: queued; the saga is now {saga.status} (version {saga.version})")


def _saga(saga_id: str) -> Saga:
    try:
        saga = Saga.objects.filter(pk=uuid.UUID(saga_id)).first()
    except ValueError:
        raise CommandError(f"{saga_id!r} is not a saga id (a UUID)") from None
    if saga is None:
        raise CommandError(f"no saga {saga_id}")
    return saga
