"""Random orders for the demo and the soak: mostly good ones, some meant to fail."""

import random


def random_order(rng: random.Random, catalog: list, customers: list[str], coupons: list[str]) -> dict:
    """An order request over `catalog` (products); about one line in ten asks for more than there is."""
    items = []
    for product in rng.sample(catalog, k=rng.randint(1, min(3, len(catalog)))):
        quantity = product.stock + 50 if rng.random() < 0.1 else rng.randint(1, 3)
        items.append({"sku": product.sku, "quantity": quantity})
    # Coupons are single use: a later order picking a taken one is refused by payments.
    coupon = rng.choice(coupons) if coupons and rng.random() < 0.3 else None
    return {"customer": rng.choice(customers), "items": items, "coupon": coupon}
