"""Soak the checkout: thousands of orders under injected faults and killed workers, then the invariants."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.processes import ProcessError
from bench.soak import Soak, SoakError
from sagaops.faults import parse_spec

DEFAULT_FAULTS = (
    "payments.charge=error:0.1,payments.charge.reply=error:0.05,inventory.reserve=delay:0.05,"
    "inventory.release=error:0.1,payments.refund=error:0.1,orders.notify=error:0.2"
)


class Command(BaseCommand):
    help = "Run many checkouts under faults and worker kills; exit non-zero if an invariant breaks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=2000)
        parser.add_argument("--faults", default=DEFAULT_FAULTS, help="fault spec (see sagaops.faults); '' for none")
        parser.add_argument(
            "--kill-worker-every",
            type=float,
            default=20.0,
            help="SIGKILL a random worker every N seconds while orders are placed (0: never)",
        )
        parser.add_argument("--workers", type=int, default=2, help="worker processes (each --concurrency 2)")
        parser.add_argument("--rate", type=float, default=40.0, help="orders placed per second")
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for sagas to settle")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **opts) -> None:
        try:
            parse_spec(opts["faults"])
        except ValueError as error:
            raise CommandError(f"--faults: {error}") from None
        if opts["orders"] < 1 or opts["workers"] < 1 or opts["rate"] <= 0:
            raise CommandError("--orders, --workers and --rate must be positive")
        soak = Soak(
            orders=opts["orders"],
            faults=opts["faults"],
            kill_every=opts["kill_worker_every"],
            workers=opts["workers"],
            rate=opts["rate"],
            timeout=opts["timeout"],
            seed=opts["seed"],
            say=self.stdout.write,
        )
        try:
            report = soak.run()
        except (SoakError, ProcessError) as error:
            raise CommandError(str(error)) from None
        self._print(report, opts["faults"])
        if report.problems:
            raise CommandError(f"{len(report.problems)} invariant(s) broken")

    def _print(self, report, faults: str) -> None:
        out = self.stdout.write
        out(
            f"\nsoak: {report.orders_placed} orders placed ({report.refused_at_placement} refused at placement) "
            f"in {report.seconds:.0f}s"
        )
        out(f"faults: {faults or 'none'}")
        out(
            f"injected errors that hit a step: {report.faults_injected}; step timeouts: {report.timeouts}; "
            f"workers killed: {report.workers_killed}"
        )
        out("sagas: " + ", ".join(f"{status} {n}" for status, n in sorted(report.statuses.items())))
        checks = [
            "money conserved",
            "stock conserved",
            "coupons used at most once",
            "each charge and refund once",
            "every saga terminal or stuck with a reason",
            "no active saga without a timer",
        ]
        if report.problems:
            out("INVARIANTS BROKEN:")
            for problem in report.problems:
                out(f"  - {problem}")
        else:
            out("invariants held: " + "; ".join(checks))
