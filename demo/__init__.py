"""`demo`: seeded, deterministic sample source systems for demos, tests and benchmarks.

`generate_demo_data(out_dir, customers, seed)` writes, under `out_dir/landing/`:

- `crm/crm_customers_1.csv`              customers (CSV, UK national phones, DD/MM/YYYY dates)
- `ecommerce/ecommerce_accounts_1.jsonl` customers (JSON lines, E.164-ish mobiles, ISO dates)
- `loyalty/loyalty_members_1.parquet`    customers (Parquet, typed dates and timestamps)
- `erp/erp_items_1.csv`                  products (CSV, GTIN-13 in several spellings)
- `marketplace/marketplace_listings_1.jsonl` products (JSON lines, free-text titles)
- `webshop/orders_1.jsonl`, `pos/pos_transactions_1.csv`, `clickstream/clicks_1.jsonl` events

and the ground truth `out_dir/truth/customers.csv` and `out_dir/truth/products.csv`
(`source,source_key,entity_id`, one row per well-formed source record).

What entity resolution is up against:

- every true customer is in one (~45%), two (~35%) or all three (~20%) customer systems, and
  ~3% of source records have a second key in the same system for the same person;
- copies differ by 1-character typos, nicknames (William/Bill, ...), first/last swaps, missing
  email/phone/date of birth (5-15% per system), case, whitespace, accents (José/Jose), phone
  formats, postcode spacing, street abbreviations, capitalised or gmail-dotted/+tagged emails,
  day/month swapped birth dates, and stale addresses (~10% of people moved; an older copy
  still has the previous address);
- ~5% of people are household members who share a last name, an address and sometimes a
  landline with another person, but have their own first name, birth date and email;
- products sit in the ERP (~97%) and/or the marketplace (~70%, some listed twice by different
  sellers); titles are worded differently, brand case varies, GTINs are missing, written as
  12-digit UPC-A, spaced, or carry a wrong check digit; product families contain look-alikes
  (same brand and type, model X200 vs X300, or colour variants of one model whose ERP `mpn`
  carries a colour code such as `X200-BK`; single-colour models have the bare model number).

Clean values are valid where it matters: phone numbers lie in allocated GB/IE/US ranges (the
`phonenumbers` library accepts them) and GTINs carry correct check digits unless deliberately
broken, so a validator rejecting a value points at injected noise, not generator bugs.

Deliberately malformed records (they are extra copies of real people and are NOT in the truth):

- crm CSV: one row whose street holds an unquoted comma (one field too many), one row cut off
  after the email (too few fields) and one row with an empty `customer_id`;
- ecommerce JSONL: two lines of truncated JSON and one object without `account_id`.

Speed: names, streets and towns come from pools built once (Faker's locale tables plus fixed
lists) and are sampled with `random.Random`, so no Faker call runs per row. The same seed always
produces byte-identical files; nothing depends on the clock or on hash ordering.

Modules, by subject: `people` and `places` (the true customers), `variation` (how each
system's copy differs), `customer_files`, `products`, `events` (what each system writes),
`files` (paths and columns), `truth`, `sampling` (seeded helpers), `generate` (the entry
point). The package ships in the e360 wheel; Faker, which it reads names from, comes with the
`demo` extra (`pip install 'e360[demo]'`).
"""

from demo.files import CRM_COLUMNS
from demo.generate import DemoSummary, generate_demo_data
from demo.people import NICKNAME_PAIRS, DemoExtraMissing

__all__ = ["CRM_COLUMNS", "NICKNAME_PAIRS", "DemoExtraMissing", "DemoSummary", "generate_demo_data"]
