"""The event feeds: webshop orders, POS transactions and clickstream events that refer to
the customer and product records by their source keys, a few customers and products
accounting for most of the activity.
"""

from __future__ import annotations

import csv
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from demo.files import CLICKS_FILE, ORDERS_FILE, POS_COLUMNS, POS_FILE, json_line
from demo.sampling import random_time

# Events per true customer; the three feeds add up to ~5 so large demos stay fast.
ORDERS_PER_CUSTOMER = 1.5
CLICKS_PER_CUSTOMER = 2.5
POS_PER_CUSTOMER = 1.0


def _skewed(rng: random.Random, n: int) -> int:
    # A few customers and products account for most activity.
    return int(n * rng.random() ** 2)


def _quantity(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.8 else (2 if r < 0.93 else rng.randrange(3, 7))


def write_events(
    rng: random.Random,
    landing: Path,
    customers: int,
    accounts: list[tuple[str, datetime]],
    members: list[int],
    erp_items: list[tuple[str, float]],
    listings: list[tuple[str, float, str]],
) -> dict[str, int]:
    accounts = accounts[:]
    rng.shuffle(accounts)
    listings = listings[:]
    rng.shuffle(listings)

    orders: list[tuple[datetime, str, tuple[str, float, str], int, str]] = []
    if accounts and listings:
        for _ in range(round(customers * ORDERS_PER_CUSTOMER)):
            account, created = accounts[_skewed(rng, len(accounts))]
            listing = listings[_skewed(rng, len(listings))]
            status = "CANCELLED" if rng.random() < 0.06 else "PLACED"
            orders.append((random_time(rng, created), account, listing, _quantity(rng), status))
    orders.sort(key=lambda o: (o[0], o[1]))
    with (landing / ORDERS_FILE).open("w", newline="", encoding="utf-8") as handle:
        for i, (at, account, (listing_id, price, currency), qty, status) in enumerate(orders):
            obj = {
                "order_id": f"WO-{i + 1:09d}", "account_id": account, "listing_id": listing_id,
                "quantity": qty, "amount": round(qty * price, 2), "currency": currency,
                "ordered_at": at.isoformat() + "Z", "status": status,
            }  # fmt: skip
            handle.write(json_line(obj) + "\n")

    txns: list[tuple[datetime, int, tuple[str, float], int, str]] = []
    if members and erp_items:
        stores = [f"S{n:03d}" for n in rng.sample(range(1, 400), 40)]
        for _ in range(round(customers * POS_PER_CUSTOMER)):
            member = members[_skewed(rng, len(members))]
            item = erp_items[_skewed(rng, len(erp_items))]
            txns.append(
                (
                    random_time(rng, datetime(2021, 1, 1)),
                    member,
                    item,
                    _quantity(rng),
                    rng.choice(stores),
                )
            )
    txns.sort(key=lambda t: (t[0], t[1]))
    with (landing / POS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(POS_COLUMNS)
        for i, (at, member, (item_no, price), qty, store) in enumerate(txns):
            writer.writerow([
                f"T{i + 1:010d}", member, item_no, qty, f"{qty * price:.2f}", "GBP",
                at.strftime("%Y-%m-%d %H:%M:%S"), store,
            ])  # fmt: skip

    clicks: list[tuple[datetime, str, str, str]] = []
    if accounts and listings:
        for _ in range(round(customers * CLICKS_PER_CUSTOMER)):
            account, created = accounts[_skewed(rng, len(accounts))]
            listing_id = listings[_skewed(rng, len(listings))][0]
            event = "ADD_TO_CART" if rng.random() < 0.2 else "VIEW"
            at = random_time(rng, created) + timedelta(milliseconds=rng.randrange(1000))
            clicks.append((at, account, listing_id, event))
    clicks.sort(key=lambda c: (c[0], c[1]))
    with (landing / CLICKS_FILE).open("w", newline="", encoding="utf-8") as handle:
        for at, account, listing_id, event in clicks:
            obj = {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "account_id": account, "listing_id": listing_id, "event": event,
                "ts": at.isoformat(timespec="milliseconds") + "Z",
            }  # fmt: skip
            handle.write(json_line(obj) + "\n")
    return {ORDERS_FILE: len(orders), POS_FILE: len(txns), CLICKS_FILE: len(clicks)}
