"""Alert rules operators configure in the console, and every alert sagaops sent (or tried to)."""

from django.conf import settings
from django.db import models


class AlertRule(models.Model):
    class Kind(models.TextChoices):
        SAGA_STUCK = "saga_stuck", "A saga became stuck"
        COMPENSATION_FAILED = "compensation_failed", "A compensation failed"
        STUCK_COUNT_OVER = "stuck_count_over", "Sagas needing attention over the threshold"
        TIMER_BACKLOG_OVER = "timer_backlog_over", "Oldest due timer overdue by more than the threshold (s)"
        NO_WORKER = "no_worker", "No live Celery worker for more than the threshold (s)"
        TICK_LAG_OVER = "tick_lag_over", "Last timer tick longer ago than the threshold (s)"
        BREAKER_TRIPPED = "breaker_tripped", "A step's circuit breaker tripped (the step is held)"
        VERSION_UNSERVED = "version_unserved", "A saga version has active sagas and no live worker knows it"

    PER_SAGA = (Kind.SAGA_STUCK, Kind.COMPENSATION_FAILED)
    THRESHOLD = (
        Kind.STUCK_COUNT_OVER,
        Kind.TIMER_BACKLOG_OVER,
        Kind.NO_WORKER,
        Kind.TICK_LAG_OVER,
    )

    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    saga_type = models.CharField(
        max_length=100, blank=True, default="", help_text="Only sagas of this type (per-saga rules); empty: all."
    )
    threshold = models.PositiveIntegerField(
        default=0, help_text="Stuck count: number of sagas. Timer backlog: seconds the oldest due timer is late."
    )
    email_recipients = models.TextField(blank=True, default="", help_text="Addresses, one per line or comma-separated.")
    # The default rules a fresh install ships mail settings.ADMINS (read when sending, so setting
    # DJANGO_ADMINS later is enough); untick it, or add addresses, to page someone else.
    to_admins = models.BooleanField(default=False, help_text="Also email everyone in settings.ADMINS.")
    webhook_url = models.URLField(max_length=500, blank=True, default="")
    webhook_secret = models.CharField(
        max_length=200, blank=True, default="", help_text="Signs the webhook body: X-Sagaops-Signature: sha256=<hmac>."
    )
    enabled = models.BooleanField(default=True)
    # A threshold rule fires once when its condition starts holding, and again only after it cleared.
    firing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind"], name="alert_rule_enabled", condition=models.Q(enabled=True))]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def recipients(self) -> list[str]:
        listed = [a.strip() for a in self.email_recipients.replace("\n", ",").split(",") if a.strip()]
        admins = [email for _, email in settings.ADMINS] if self.to_admins else []
        return list(dict.fromkeys([*listed, *admins]))

    @property
    def channels(self) -> list[str]:
        return [
            c
            for c, on in ((AlertSent.Channel.EMAIL, self.recipients), (AlertSent.Channel.WEBHOOK, self.webhook_url))
            if on
        ]


class AlertSent(models.Model):
    """One alert on one channel. (rule, channel, dedupe key) is unique: a saga is alerted once per kind."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (being delivered)"
        SENT = "sent"
        FAILED = "failed"
        HELD = "held", "Held for the next digest (rate limit)"
        DIGESTED = "digested", "Sent in a digest"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    saga = models.ForeignKey("sagaops.Saga", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=30)
    dedupe_key = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # What was (or will be) sent: subject, body, link, and the webhook's JSON document.
    payload = models.JSONField(default=dict, blank=True)
    digest = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="digested")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "sent alert"
        constraints = [
            models.UniqueConstraint(fields=["rule", "channel", "dedupe_key"], name="alert_sent_once"),
        ]
        indexes = [
            models.Index(fields=["rule", "channel", "created_at"], name="alert_sent_recent"),
            models.Index(fields=["rule", "channel"], name="alert_sent_held", condition=models.Q(status="held")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} via {self.channel} ({self.status})"
