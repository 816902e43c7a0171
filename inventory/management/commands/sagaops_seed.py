"""Seed the demo catalog, customer accounts and coupons. Idempotent: missing rows are created,
existing ones are left as they are (a demo run's stock and balances are not reset)."""

from decimal import Decimal

from django.core.management.base import BaseCommand

from inventory.services import product_ensure
from payments.services import account_ensure, coupon_ensure

PRODUCTS = [
    ("KB-001", "Mechanical keyboard", "89.00", 40),
    ("MS-002", "Wireless mouse", "29.50", 60),
    ("MN-003", "27-inch monitor", "249.00", 15),
    ("HS-004", "Headset", "59.90", 30),
    ("CB-005", "USB-C cable", "9.99", 200),
    ("DK-006", "Docking station", "149.00", 10),
    ("WC-007", "Webcam", "69.00", 25),
    ("LP-008", "Laptop stand", "39.00", 3),
]

RICH = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
MIDDLE = ["mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent"]
POOR = ["victor", "walter", "zoe"]  # enough for a cable, not for a monitor
BALANCES = {"rich": Decimal("5000.00"), "middle": Decimal("600.00"), "poor": Decimal("15.00")}

COUPONS = [(f"SAVE{n:02d}", Decimal("5.00") * (1 + n % 4)) for n in range(1, 11)]


class Command(BaseCommand):
    help = "Create the demo catalog, customer accounts and coupons (idempotent)."

    def handle(self, *args, **options) -> None:
        created = {"products": 0, "accounts": 0, "coupons": 0}
        for sku, name, price, stock in PRODUCTS:
            created["products"] += product_ensure(sku=sku, name=name, price=Decimal(price), stock=stock)[1]
        for tier, customers in (("rich", RICH), ("middle", MIDDLE), ("poor", POOR)):
            for customer in customers:
                created["accounts"] += account_ensure(customer=customer, balance=BALANCES[tier])[1]
        for code, discount in COUPONS:
            created["coupons"] += coupon_ensure(code=code, discount=discount)[1]
        summary = ", ".join(f"{count} {what}" for what, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"seeded: created {summary} (existing rows left as they were)"))
