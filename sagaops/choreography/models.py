"""The bus's bookkeeping (outbox, processed events, dead letters) and the supervisor's rules."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from sagaops.models import FailureReport


class OutboxEvent(models.Model):
    """An event to publish, written in the publisher's transaction and sent to Redis after commit.

    A crash between the commit and the XADD leaves the row unpublished; the relay sends it later
    (consumers dedupe on event_id, so a second send is harmless).
    """

    stream = models.CharField(max_length=100)
    event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=100)
    correlation_id = models.CharField(max_length=200, blank=True, default="")
    fields = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["created_at"], name="outbox_unpublished", condition=Q(published_at__isnull=True)),
            models.Index(fields=["correlation_id", "id"], name="outbox_by_correlation"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class ProcessedEvent(models.Model):
    """A consumer group handled this event: written in the handler's own transaction."""

    group = models.CharField(max_length=50)
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    correlation_id = models.CharField(max_length=200, blank=True, default="")
    message_id = models.CharField(max_length=40)
    consumer = models.CharField(max_length=200)
    deliveries = models.PositiveIntegerField(default=1)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["group", "event_id"], name="processed_event_once")]

    def __str__(self) -> str:
        return f"{self.group}: {self.event_type} {self.event_id}"


class DeadLetter(models.Model):
    """A message a group could not handle within SAGAOPS_STREAM_MAX_DELIVERIES deliveries.

    It is also on the dead-letter stream; replaying it publishes the original event again.
    """

    group = models.CharField(max_length=50)
    stream = models.CharField(max_length=100)
    message_id = models.CharField(max_length=40)
    dead_message_id = models.CharField(max_length=40, blank=True, default="")
    event_id = models.CharField(max_length=64, blank=True, default="")
    event_type = models.CharField(max_length=100, blank=True, default="")
    correlation_id = models.CharField(max_length=200, blank=True, default="")
    fields = models.JSONField(default=dict)
    deliveries = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    dead_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replayed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-dead_at"]
        constraints = [models.UniqueConstraint(fields=["group", "stream", "message_id"], name="dead_letter_once")]
        permissions = [("replay_deadletter", "Can replay a dead-lettered message")]

    def __str__(self) -> str:
        return f"{self.group}: {self.event_type or '?'} {self.message_id}"


class CompensationRule(models.Model):
    """(service, code) -> what the supervisor requests. Every edit records a new version."""

    class Action(models.TextChoices):
        COMPENSATE = "compensate", "Request the compensations, in order"
        RETRY_STEP = "retry_step", "Retry the failed step only"

    service = models.CharField(max_length=150)
    code = models.CharField(max_length=100)
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.COMPENSATE)
    description = models.TextField(blank=True, default="")
    # The number of the newest CompensationRuleVersion (0 before the first is recorded).
    version = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "code"]
        constraints = [models.UniqueConstraint(fields=["service", "code"], name="compensation_rule_unique_pair")]

    def __str__(self) -> str:
        return f"({self.service}, {self.code})"


class RuleCompensation(models.Model):
    """One compensation of a rule: a command a service executes (e.g. "payments.refund")."""

    rule = models.ForeignKey(CompensationRule, on_delete=models.CASCADE, related_name="compensations")
    position = models.PositiveSmallIntegerField(default=0)
    command = models.CharField(max_length=100)

    class Meta:
        ordering = ["rule", "position", "id"]

    def __str__(self) -> str:
        return self.command


class CompensationRuleVersion(models.Model):
    """An immutable snapshot of a rule; a report records the version that handled it."""

    rule = models.ForeignKey(CompensationRule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=20, choices=CompensationRule.Action.choices)
    commands = models.JSONField(default=list)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="compensation_rule_version_unique")]

    def __str__(self) -> str:
        return f"{self.rule} v{self.version}"

    @property
    def summary(self) -> str:
        if self.action == CompensationRule.Action.RETRY_STEP:
            return "retry the failed step only"
        return ", ".join(self.commands) or "nothing"


class ReportHandling(models.Model):
    """What the supervisor did with one failure report, and under which rule version."""

    class Status(models.TextChoices):
        COMPENSATING = "compensating"
        RETRYING = "retrying"
        DONE = "done"
        STUCK = "stuck"

    report = models.OneToOneField(FailureReport, on_delete=models.CASCADE, related_name="handling")
    rule_version = models.ForeignKey(
        CompensationRuleVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="handlings"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.TextField(blank=True, default="")
    saga_id = models.UUIDField(null=True, blank=True, db_index=True)
    # What the commands act on: the saga's payload and the report's detail (order id, saga id, ...).
    subject = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.report} -> {self.status}"


class CompensationRequest(models.Model):
    """One command the supervisor requested, tracked until its service acknowledges it."""

    class Status(models.TextChoices):
        WAITING = "waiting"  # an earlier one in the list is not done yet
        REQUESTED = "requested"
        DONE = "done"
        FAILED = "failed"

    handling = models.ForeignKey(ReportHandling, on_delete=models.CASCADE, related_name="requests")
    position = models.PositiveSmallIntegerField()
    command = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    attempts = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    # Re-request (or give up) at this time unless acknowledged.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["handling", "position"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="compensation_request_due", condition=Q(status="requested"))
        ]

    def __str__(self) -> str:
        return f"{self.command} ({self.status})"
