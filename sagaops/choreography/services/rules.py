"""Compensation rules: (service, code) -> the compensations to request, versioned on every edit."""

from __future__ import annotations

from django.db import transaction

from sagaops.choreography import bus
from sagaops.choreography.models import CompensationRule, CompensationRuleVersion, RuleCompensation


class RuleError(ValueError):
    pass


def rule_version_current(*, service: str, code: str) -> CompensationRuleVersion | None:
    versions = CompensationRuleVersion.objects.select_related("rule")
    return versions.filter(rule__service=service, rule__code=code).order_by("-version").first()


def _snapshot(rule: CompensationRule) -> tuple[str, list[str], str]:
    commands = list(rule.compensations.order_by("position", "id").values_list("command", flat=True))
    if rule.action == CompensationRule.Action.RETRY_STEP:
        commands = []  # a retry requests the failed step itself, never compensations
    return rule.action, commands, rule.description


def rule_version_record(*, rule: CompensationRule, user=None) -> CompensationRuleVersion:
    """Record the rule as it is now as a new version, unless it equals the newest one."""
    with transaction.atomic():
        rule = CompensationRule.objects.select_for_update().get(pk=rule.pk)
        action, commands, description = _snapshot(rule)
        latest = rule.versions.order_by("-version").first()
        if latest is not None and (latest.action, latest.commands, latest.description) == (
            action,
            commands,
            description,
        ):
            return latest
        version = CompensationRuleVersion.objects.create(
            rule=rule,
            version=rule.version + 1,
            action=action,
            commands=commands,
            description=description,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        CompensationRule.objects.filter(pk=rule.pk).update(version=version.version)
    return version


def commands_validate(commands: list[str]) -> None:
    known = set(bus.commands())
    unknown = [c for c in commands if c not in known]
    if unknown:
        raise RuleError(f"unknown command(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


@transaction.atomic
def rule_set(
    *, service: str, code: str, action: str, commands: list[str], description: str = "", user=None
) -> CompensationRuleVersion:
    """Create or replace a rule (its compensations in order); returns the version now in force."""
    if action == CompensationRule.Action.RETRY_STEP and commands:
        raise RuleError("a retry-the-step rule requests no compensations")
    commands_validate(commands)
    rule, _ = CompensationRule.objects.update_or_create(
        service=service, code=code, defaults={"action": action, "description": description}
    )
    rule.compensations.all().delete()
    RuleCompensation.objects.bulk_create(
        RuleCompensation(rule=rule, position=i, command=command) for i, command in enumerate(commands)
    )
    return rule_version_record(rule=rule, user=user)


def rule_preview(*, service: str, code: str, correlation_id: str = "X") -> str:
    """The dry run: what a report would request, without requesting anything."""
    version = rule_version_current(service=service, code=code)
    head = f"a report {correlation_id} from service {service} with code {code}"
    if version is None:
        return f"{head} would request nothing: no rule for ({service}, {code}); the saga would be marked stuck"
    if version.action == CompensationRule.Action.RETRY_STEP:
        return f"{head} would request: a retry of the failed step only ({service}.<step>) (rule v{version.version})"
    commands = ", ".join(f"{i}. {c}" for i, c in enumerate(version.commands, 1)) or "nothing"
    return f"{head} would request: {commands} (rule v{version.version})"


# Seed 003's delivery example, adapted: payments refund and coupon release, inventory release (the
# delivery), order cancel (the rider and the customer's message). Each tuple: service, code, action,
# commands, why.
COMPENSATE, RETRY = CompensationRule.Action.COMPENSATE, CompensationRule.Action.RETRY_STEP
DEMO_RULES: list[tuple[str, str, str, list[str], str]] = [
    ("inventory", "out_of_stock", COMPENSATE, ["orders.cancel"], "Nothing was reserved: cancel the order."),
    (
        "payments",
        "insufficient_funds",
        COMPENSATE,
        ["inventory.release", "orders.cancel"],
        "Seed report 2 of payments: release the delivery (stock) and cancel the order.",
    ),
    (
        "payments",
        "coupon_already_used",
        COMPENSATE,
        ["payments.coupon_release", "inventory.release", "orders.cancel"],
        "Seed report 1 of payments: give the coupon back, release the stock, cancel the order.",
    ),
    ("orders", "notify_failed", RETRY, [], "Seed report 1 of orders: retry only the order's own step."),
    (
        "orders",
        "confirm_refused",
        COMPENSATE,
        ["payments.refund", "payments.coupon_release", "inventory.release", "orders.cancel"],
        "Seed report 3 of orders: refund, give the coupon back, release the stock, cancel the order.",
    ),
    (
        "inventory",
        "reservation_released",
        COMPENSATE,
        ["orders.cancel"],
        "A late reserve after its release (e.g. a replayed OrderCreated): make sure the order is cancelled.",
    ),
    (
        "sagaops",
        "operator_compensate",
        COMPENSATE,
        ["payments.refund", "payments.coupon_release", "inventory.release", "orders.cancel"],
        "Force compensation in the console: undo everything (each undo accepts 'nothing to undo').",
    ),
]


def demo_rules_ensure() -> int:
    """Create the demo rules that are missing (an edited rule is left as it is). Returns how many."""
    created = 0
    for service, code, action, commands, description in DEMO_RULES:
        if not CompensationRule.objects.filter(service=service, code=code).exists():
            rule_set(service=service, code=code, action=action, commands=commands, description=description)
            created += 1
    return created
