"""`generate_demo_data`: every generator in turn, each on its own seeded stream, writing the
landing files and the truth; `DemoSummary` is what it wrote.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from demo.customer_files import copies_by_system, write_crm, write_ecommerce, write_loyalty
from demo.events import write_events
from demo.files import CRM_FILE, ECOMMERCE_FILE, LANDING_FILES, LOYALTY_FILE
from demo.people import CustomerFactory, Person
from demo.products import make_products, write_products
from demo.truth import write_truth


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo_data` wrote.

    files: landing-relative path -> data rows written (malformed rows included, headers not).
    customers / products: number of true distinct entities described by the truth files.
    """

    files: dict[str, int]
    customers: int
    products: int


def generate_demo_data(out_dir: Path, customers: int = 2000, seed: int = 42) -> DemoSummary:
    """Write sample landing files and their ground truth under `out_dir`; see the module docs.

    Existing files at the same paths are overwritten; other files are left alone.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")

    # Independent streams per concern, so changing one generator does not reshuffle the others.
    def stream(name: str) -> random.Random:
        return random.Random(f"e360-demo:{seed}:{name}")

    factory = CustomerFactory(stream("people"))  # first: without Faker, nothing is written
    out_dir = Path(out_dir)
    landing = out_dir / "landing"
    truth_dir = out_dir / "truth"
    for rel in LANDING_FILES:
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    people: list[Person] = []
    for i in range(customers):
        people.append(factory.person(i, people))
    copies = copies_by_system(stream("copies"), people)

    files: dict[str, int] = {}
    crm_rows, crm_truth = write_crm(stream("crm"), landing / CRM_FILE, copies["crm"], people)
    eco_rows, eco_truth, accounts = write_ecommerce(
        stream("ecommerce"), landing / ECOMMERCE_FILE, copies["ecommerce"], people
    )
    loy_rows, loy_truth, members = write_loyalty(
        stream("loyalty"), landing / LOYALTY_FILE, copies["loyalty"]
    )
    files[CRM_FILE], files[ECOMMERCE_FILE], files[LOYALTY_FILE] = crm_rows, eco_rows, loy_rows
    customer_truth = (
        [("crm", k, e) for k, e in crm_truth]
        + [("ecommerce", k, e) for k, e in eco_truth]
        + [("loyalty", k, e) for k, e in loy_truth]
    )
    write_truth(truth_dir / "customers.csv", customer_truth)

    product_rng = stream("products")
    products = make_products(product_rng, max(50, customers // 10))
    counts, product_truth, erp_items, market_items = write_products(product_rng, landing, products)
    files.update(counts)
    write_truth(truth_dir / "products.csv", product_truth)

    files.update(
        write_events(
            stream("events"), landing, customers, accounts, members, erp_items, market_items
        )
    )
    return DemoSummary(
        files=files,
        customers=len({e for _, _, e in customer_truth}),
        products=len({e for _, _, e in product_truth}),
    )
