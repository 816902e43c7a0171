"""Saga state in PostgreSQL, the source of truth. Redis only mirrors it."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from sagaops.states import SagaStatus, StepStatus


class Saga(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100)
    definition_version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=SagaStatus.choices, default=SagaStatus.PENDING)
    current_step = models.PositiveIntegerField(default=0)
    # {"payload": <start payload>}; each step's result lives on its SagaStep row.
    context = models.JSONField(default=dict)
    # Stored as "<principal id>:<client key>" by the API, so each service has its own key space.
    # Unique and indexed through Meta (partial indexes, no `_like` twins: lookups are exact).
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (NULL: no key)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    correlation_id = models.CharField(max_length=200, blank=True, default="")
    # The fence: +1 at every transition; every write is conditional on the version it read.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    # When the engine must look at this saga again (retry due, lease expiry, deadline).
    wake_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    attention_reason = models.TextField(blank=True, default="")
    # Business keys a step's result brought (a definition's `search_keys` not in the payload),
    # for the console's and the API's search: {"charge_id": "ch_1"}.
    search = models.JSONField(default=dict, blank=True)
    # Why it needs a human, for machines: a `sagaops.rules.AttentionCode` value, or "".
    attention_code = models.CharField(max_length=30, blank=True, default="")
    # The API principal (a service account's user, or a person) that started it: callbacks,
    # failure reports and reads of a service are limited to the sagas it started.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # saga_by_principal below leads with it
    )
    # A child saga (sagaops.children.ChildSaga): the saga and the step that started it. No database
    # constraint: retention prunes a finished parent without touching its children's rows.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="children",
        db_index=False,  # a parent's children are found through the search document (saga_search)
    )
    parent_step = models.CharField(max_length=100, blank=True, default="")

    # Six indexes (with the primary key and the idempotency key), none on a column a checkpoint
    # changes (version, updated_at, wake_at, current_step, last_error): with free space on the
    # page (fillfactor 70, migration 0006) a checkpoint is a HOT update that writes no index
    # entry. Only the few status changes of a saga's life touch the partial index below. The
    # timer index lives in SagaWake for the same reason. Retention (sagaops_prune) walks
    # `saga_newest_first` from its old end. Every lookup by a business key (payload keys, keys
    # step results brought, the correlation id, the parent) goes through the one GIN index `saga_search`.
    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="saga_idempotency_key", condition=Q(idempotency_key__isnull=False)
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="saga_newest_first"),
            # A service's own sagas, newest first (GET /api/sagas/ with a service token).
            models.Index(fields=["started_by", "-created_at"], name="saga_by_principal"),
            # Stuck and active sagas (the console's stuck page, failure groups, stall checks, counts).
            models.Index(
                fields=["status", "-created_at"],
                name="saga_unfinished",
                condition=Q(status__in=["pending", "running", "compensating", "stuck"]),
            ),
        ]
        permissions = [
            ("retry_saga", "Can retry a saga forward"),
            ("compensate_saga", "Can force a saga to compensate"),
            ("retry_compensation_saga", "Can retry a saga's failed compensation"),
            ("skip_step_saga", "Can skip a step or mark a compensation done by hand"),
            ("resolve_saga", "Can resolve a saga by hand"),
            ("complete_step_saga", "Can complete a step by hand with its result"),
            ("edit_result_saga", "Can edit a step's recorded result"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id} ({self.status})"

    @property
    def payload(self) -> dict:
        return self.context.get("payload", {})


class SagaStep(models.Model):
    # No index of its own: the (saga, index) unique constraint serves lookups by saga.
    saga = models.ForeignKey(Saga, on_delete=models.CASCADE, related_name="steps", db_index=False)
    index = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=24, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    compensation_attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A remote or async step whose attempt failed without proving "no effect" (a timeout, a lost
    # reply, a transient error) may have taken effect: a turning-back saga compensates it too.
    outcome_unknown = models.BooleanField(default=False)
    result = models.JSONField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_type = models.CharField(max_length=200, blank=True, default="")
    last_traceback = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The Hold keeping this step from starting (status held), and since when.
    held_by = models.IntegerField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    # Holds that released this step: each lets it pass once, so a hold still releasing does not
    # catch again the sagas it let go.
    hold_passes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["saga", "index"]
        constraints = [models.UniqueConstraint(fields=["saga", "index"], name="saga_step_unique_index")]
        indexes = [
            # The console: a stuck saga's failed step (or failed compensation) without reading the rows.
            models.Index(
                fields=["saga"],
                include=["index", "status", "name", "last_error_type"],
                name="saga_step_failures",
                condition=Q(status__in=["failed", "compensation_failed"]),
            ),
            # A hold's release walks its held steps, oldest first.
            models.Index(fields=["held_by", "held_at"], name="saga_step_held", condition=Q(status="held")),
        ]

    def __str__(self) -> str:
        return f"{self.index}:{self.name} ({self.status})"


class SagaWake(models.Model):
    """When an active saga must be looked at next: a narrow copy of `Saga.wake_at`.

    Kept by database triggers (migration 0006) from every write of the saga row, whatever wrote
    it. The reconcile pass reads an index range of it (what falls due soon) instead of every
    active saga, and the wide saga row needs no index on a column that changes at every step.
    """

    saga = models.OneToOneField(
        Saga, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    wake_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["wake_at"], name="saga_wake_due")]

    def __str__(self) -> str:
        return f"{self.saga_id} at {self.wake_at:%Y-%m-%d %H:%M:%S}"


class SagaEvent(models.Model):
    """The append-only timeline of a saga: its history and the audit of operator actions."""

    class Actor(models.TextChoices):
        SYSTEM = "system"
        SERVICE = "service"
        OPERATOR = "operator"

    # No index of its own: saga_event_timeline (saga, id) serves lookups by saga.
    saga = models.ForeignKey(Saga, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=50)
    step = models.CharField(max_length=100, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    actor_type = models.CharField(max_length=10, choices=Actor.choices, default=Actor.SYSTEM)
    actor = models.CharField(max_length=150, blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["saga", "id"]
        indexes = [
            models.Index(fields=["saga", "id"], name="saga_event_timeline"),
            # The console's audit trail: operator actions newest first, without reading system events.
            models.Index(fields=["-id"], name="saga_event_operator", condition=Q(actor_type="operator")),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.step}".strip()


class ServiceAccount(models.Model):
    """A service that calls the API with a token; it may be limited to saga types and steps.

    An empty `saga_types` means it may start sagas of any type. `steps` holds "<saga type>:<step>"
    (or "<saga type>:*") grants: callbacks it may deliver for sagas that another principal started.
    A service always may call back the sagas it started itself; without grants, only those.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sagaops_service")
    name = models.CharField(max_length=150, unique=True)
    saga_types = models.JSONField(default=list, blank=True)
    steps = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def may_start(self, saga_type: str) -> bool:
        return not self.saga_types or saga_type in self.saga_types

    def is_granted(self, saga_type: str, step: str) -> bool:
        return f"{saga_type}:{step}" in self.steps or f"{saga_type}:*" in self.steps

    def is_granted_type(self, saga_type: str) -> bool:
        """Granted any step of the type: it may report failures of such sagas."""
        return any(grant.split(":", 1)[0] == saga_type for grant in self.steps)


class FailureReport(models.Model):
    """A failure a service reported (service, code); the supervisor looks the pair up in its rules."""

    service = models.CharField(max_length=150)
    code = models.CharField(max_length=100)
    correlation_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["service", "code"], name="failure_report_by_code"),
            models.Index(fields=["received_at"], name="failure_report_unhandled", condition=Q(handled_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.service}:{self.code} {self.correlation_id}".strip()


class BulkAction(models.Model):
    """One operator action applied to many sagas at a rate, saga by saga, by a chain of Celery ticks.

    The selection is a saga filter (`sagaops.selection`) or a list the operator confirmed; either
    way it is written as BulkActionItem rows when the action starts (a snapshot: sagas that match
    later are not swept in), each with the version it had then, which fences its repair.
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        PAUSED = "paused"
        CANCELLED = "cancelled"  # stopped for good; the sagas not reached are left as they were
        DONE = "done"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=30)
    step = models.CharField(max_length=100, blank=True, default="")
    reason = models.TextField()
    # What it was started from, for the operator: "failure group ...", "saga list", "filter ...".
    source = models.CharField(max_length=300, blank=True, default="")
    # The saga filter that selected the sagas (JSON, see sagaops.selection); {} for a list.
    filters = models.JSONField(default=dict, blank=True)
    rate = models.FloatField(default=50.0, help_text="sagas per second")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    # The keyset: the last item reached (items are walked in id order), and how many were settled.
    cursor = models.BigIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    # The pace: `paced_count` items had been processed at `paced_from` (reset on resume); the
    # next tick is due at paced_from + (processed - paced_count) / rate.
    paced_from = models.DateTimeField(null=True, blank=True)
    paced_count = models.PositiveIntegerField(default=0)
    # The chain of ticks: its number (a stale duplicate finds it moved on) and when the next one
    # is due (the beat restarts a chain that is late: its task was lost with a worker).
    tick = models.PositiveIntegerField(default=0)
    next_tick_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["next_tick_at"], name="bulk_running", condition=Q(status="running"))]

    def __str__(self) -> str:
        return f"{self.action} on {self.total} saga(s) by {self.user_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.CANCELLED, self.Status.DONE)


class BulkActionItem(models.Model):
    """One saga of a bulk action: the version it was selected at, and what came of it."""

    class Outcome(models.TextChoices):
        PENDING = "pending"
        APPLIED = "applied"
        REFUSED = "refused"  # the rules (or the fence) refused it; `message` says why
        FAILED = "failed"  # an unexpected error; `message` has it

    bulk = models.ForeignKey(BulkAction, on_delete=models.CASCADE, related_name="items", db_index=False)
    # Not a foreign key: a saga pruned later keeps its line in the bulk action's report.
    saga_id = models.UUIDField()
    version = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    message = models.TextField(blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bulk", "id"]
        constraints = [models.UniqueConstraint(fields=["bulk", "saga_id"], name="bulk_item_once")]
        indexes = [
            models.Index(fields=["bulk", "id"], name="bulk_item_walk"),
            models.Index(fields=["bulk", "outcome"], name="bulk_item_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.saga_id} {self.outcome}"


class SavedView(models.Model):
    """An operator's named saga-list query (filters and search), offered above the list."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    # The list's query string without page and action parameters: "status__exact=stuck&q=ann".
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"


class Hold(models.Model):
    """Sagas reaching a held step wait (step status held) until the hold is released, at a rate.

    A hold names a step of a saga type, or a participant (every step that declares it). It is
    placed by an operator or by the circuit breaker. In force while active, releasing or paused.
    """

    class Status(models.TextChoices):
        ACTIVE = "active"  # holding every saga that reaches its step
        RELEASING = "releasing"  # still holding, and letting the held sagas go at `release_rate`
        PAUSED = "paused"  # a release stopped for now; resumed by releasing again
        RELEASED = "released"  # every held saga was let go: the hold is over

    class Source(models.TextChoices):
        OPERATOR = "operator"
        BREAKER = "breaker"

    IN_FORCE = (Status.ACTIVE, Status.RELEASING, Status.PAUSED)

    saga_type = models.CharField(max_length=100, blank=True, default="")
    step = models.CharField(max_length=100, blank=True, default="")
    participant = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.OPERATOR)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The release: who, why, how fast (sagas per second), how far.
    release_rate = models.FloatField(null=True, blank=True)
    release_reason = models.TextField(blank=True, default="")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_started_at = models.DateTimeField(null=True, blank=True)
    released_count = models.PositiveIntegerField(default=0)
    # The release's chain of Celery ticks: its number (a stale duplicate finds it moved on) and
    # when the next one is due (the beat restarts a chain that is late: its task was lost).
    release_tick = models.PositiveIntegerField(default=0)
    next_tick_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One hold in force per target: a second one would only confuse its release.
            models.UniqueConstraint(
                fields=["saga_type", "step", "participant"],
                name="hold_one_in_force_per_target",
                condition=Q(status__in=["active", "releasing", "paused"]),
            ),
            models.CheckConstraint(
                condition=(~Q(saga_type="") & ~Q(step="") & Q(participant=""))
                | (Q(saga_type="") & Q(step="") & ~Q(participant="")),
                name="hold_names_a_step_or_a_participant",
            ),
        ]
        permissions = [("manage_hold", "Can place and release holds")]

    def __str__(self) -> str:
        return f"hold #{self.pk} on {self.target} ({self.status})"

    @property
    def target(self) -> str:
        return f"participant:{self.participant}" if self.participant else f"{self.saga_type}:{self.step}"

    @property
    def in_force(self) -> bool:
        return self.status in self.IN_FORCE
