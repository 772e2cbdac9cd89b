"""The landing files the demo writes: their paths under `landing/` and their columns.

One file per source system and feed, named as the demo configuration's `sources` expect
(`examples/demo/e360.yaml`); `json_line` is how every JSON-lines file spells a record.
"""

from __future__ import annotations

import json
from typing import Any

CUSTOMER_SYSTEMS = ("crm", "ecommerce", "loyalty")
CRM_FILE = "crm/crm_customers_1.csv"
ECOMMERCE_FILE = "ecommerce/ecommerce_accounts_1.jsonl"
LOYALTY_FILE = "loyalty/loyalty_members_1.parquet"
ERP_FILE = "erp/erp_items_1.csv"
MARKETPLACE_FILE = "marketplace/marketplace_listings_1.jsonl"
ORDERS_FILE = "webshop/orders_1.jsonl"
POS_FILE = "pos/pos_transactions_1.csv"
CLICKS_FILE = "clickstream/clicks_1.jsonl"
LANDING_FILES = (
    CRM_FILE, ECOMMERCE_FILE, LOYALTY_FILE, ERP_FILE, MARKETPLACE_FILE, ORDERS_FILE, POS_FILE,
    CLICKS_FILE,
)  # fmt: skip

CRM_COLUMNS = (
    "customer_id", "title", "first_name", "middle_name", "last_name", "birth_date", "gender",
    "email", "phone", "street", "city", "zip", "country", "updated_at",
)  # fmt: skip
ERP_COLUMNS = (
    "item_no", "description", "brand", "manufacturer", "mpn", "ean", "category", "list_price",
    "currency", "updated_at",
)  # fmt: skip
POS_COLUMNS = ("txn_id", "member_no", "item_no", "qty", "amount", "currency", "ts", "store_id")


def json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)
