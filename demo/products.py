"""The true products (brand families of look-alike models and colour variants, valid GTINs)
and the ERP item master and marketplace listings written from them: free-text titles, brand
case, GTINs missing, as UPC-A, spaced or with a wrong check digit.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from demo.files import ERP_COLUMNS, ERP_FILE, MARKETPLACE_FILE, json_line
from demo.sampling import random_time, unique_keys

_BRANDS = (
    "Sonara", "Voltix", "Lumora", "Kestrel", "Nordvik", "Aurelle", "Brightwell", "Zentro",
    "Haverly", "Quillon", "Tevani", "Orbix", "Pellham", "Arcwave", "Fennick", "Glimra",
    "Iverson", "Korvath", "Marlowe", "Novalux", "Oakridge", "Primacasa", "Rendell", "Stratovo",
    "Tidewell", "Vantor", "Wexley", "Yarrow", "Zephyra", "Calloway",
)  # fmt: skip
_MANUFACTURER_FORMS = (
    "{} Electronics Ltd",
    "{} Group plc",
    "{} Home Appliances Ltd",
    "{} GmbH",
    "{} Technologies Inc.",
    "{} UK Ltd",
)
# category key: (ERP category, marketplace category, types with synonyms, price range, colours)
_CATEGORIES: dict[str, tuple[str, str, tuple[tuple[str, ...], ...], tuple[int, int],
                             tuple[str, ...]]] = {
    "headphones": ("Audio > Headphones", "Electronics > Headphones & Earphones",
                   (("Wireless Headphones", "Bluetooth Headphones", "Over-Ear Wireless Headphones"),
                    ("Noise Cancelling Headphones", "ANC Headphones"),
                    ("True Wireless Earbuds", "Wireless Earbuds", "TWS Earphones")),
                   (29, 349), ("Black", "White", "Silver", "Navy", "Rose Gold")),
    "speakers": ("Audio > Speakers", "Electronics > Speakers",
                 (("Bluetooth Speaker", "Portable Wireless Speaker"), ("Smart Speaker",),
                  ("Soundbar", "Sound Bar")),
                 (25, 499), ("Black", "Grey", "Blue", "Red")),
    "tv": ("Vision > Televisions", "Electronics > TV & Home Cinema",
           (("55\" 4K Smart TV", "55 inch 4K UHD Smart Television"),
            ("65\" QLED TV", "65 inch QLED Smart TV"), ("43\" Full HD TV", "43 inch FHD TV")),
           (249, 1899), ("Black",)),
    "laptops": ("Computing > Laptops", "Computers > Laptops & Notebooks",
                (("14\" Laptop", "14 inch Notebook"), ("Ultrabook", "Thin & Light Laptop"),
                 ("Gaming Laptop",)),
                (299, 1999), ("Silver", "Space Grey", "Black")),
    "monitors": ("Computing > Monitors", "Computers > Monitors",
                 (("27\" QHD Monitor", "27 inch 1440p Monitor"), ("24\" Full HD Monitor",),
                  ("34\" Curved Monitor", "34 inch Ultrawide Curved Monitor")),
                 (99, 899), ("Black", "White")),
    "kettles": ("Small Appliances > Kettles", "Home & Kitchen > Kettles",
                (("Electric Kettle 1.7L", "1.7 Litre Electric Kettle"), ("Cordless Kettle",),
                 ("Glass Kettle", "Illuminated Glass Kettle")),
                (19, 129), ("Black", "White", "Cream", "Stainless Steel")),
    "toasters": ("Small Appliances > Toasters", "Home & Kitchen > Toasters",
                 (("2-Slice Toaster", "2 Slice Toaster"), ("4-Slice Toaster", "Four Slice Toaster")),
                 (19, 149), ("Black", "White", "Cream", "Red")),
    "coffee": ("Small Appliances > Coffee", "Home & Kitchen > Coffee Machines",
               (("Bean-to-Cup Coffee Machine", "Bean to Cup Coffee Maker"),
                ("Espresso Machine", "Espresso Coffee Machine"), ("Pod Coffee Maker",)),
               (49, 899), ("Black", "Silver")),
    "vacuums": ("Floorcare > Vacuums", "Home & Garden > Vacuum Cleaners",
                (("Cordless Vacuum Cleaner", "Cordless Stick Vacuum"), ("Robot Vacuum",
                 "Robot Vacuum Cleaner"), ("Bagless Upright Vacuum",)),
                (79, 599), ("Grey", "Purple", "Red", "Black")),
    "wearables": ("Wearables > Smartwatches", "Electronics > Wearable Technology",
                  (("Smartwatch", "Smart Watch"), ("Fitness Tracker", "Activity Tracker")),
                  (29, 399), ("Black", "Silver", "Pink", "Green")),
    "power": ("Accessories > Power", "Electronics > Chargers & Power Banks",
              (("USB-C Fast Charger 65W", "65W USB C Charger"),
               ("Power Bank 20000mAh", "20000mAh Portable Charger"), ("Wireless Charging Pad",)),
              (12, 79), ("Black", "White")),
}  # fmt: skip
_COLOUR_CODES = {
    "Black": "BK", "White": "WH", "Silver": "SV", "Navy": "NV", "Rose Gold": "RG", "Grey": "GY",
    "Blue": "BL", "Red": "RD", "Space Grey": "SG", "Cream": "CR", "Stainless Steel": "SS",
    "Purple": "PU", "Pink": "PK", "Green": "GN",
}  # fmt: skip
_ERP_ABBREV = {
    "Wireless": "WRLS", "Headphones": "HDPHN", "Bluetooth": "BT", "Speaker": "SPKR",
    "Cordless": "CRDLS", "Vacuum": "VAC", "Cleaner": "CLNR", "Coffee": "COF",
    "Machine": "MACH", "Monitor": "MON", "Laptop": "LPTP", "Kettle": "KTL", "Toaster": "TSTR",
    "Noise": "NS", "Cancelling": "CANC", "Earbuds": "EARBDS", "Smartwatch": "SMARTWTCH",
    "Charger": "CHGR", "Charging": "CHG", "Curved": "CRVD",
}  # fmt: skip
_SELLERS = (
    "TechDirect UK", "GadgetHub", "ElectroWorld Outlet", "HomeStore Direct", "PrimeDeals Ltd",
    "Value Electricals", "Brit Bargains", "Kitchen Kingdom", "AudioPlanet", "The Appliance Shed",
    "Digital Depot", "Northern Electricals", "SmartBuy UK", "CityTech", "Warehouse Wonders",
    "Crate & Current", "Bright Sparks Retail", "EuroTech IE", "MegaMart Online", "Volt & Co",
)  # fmt: skip
_FEATURES = (
    "Fast UK Delivery",
    "2 Year Warranty",
    "Latest Model",
    "Genuine UK Stock",
    "Free Returns",
    "Official Retailer",
)


@dataclass(frozen=True, slots=True)
class _Product:
    entity_id: str
    brand: str
    manufacturer: str
    category: str
    type_names: tuple[str, ...]
    model: str
    colour: str
    mpn: str
    gtin: str
    price: float


def _price(value: float) -> float:
    # Retail prices end in .99 or .49, which also keeps float formatting short and stable.
    return max(4.99, float(int(value)) + (0.99 if value % 1 >= 0.5 else 0.49))


def make_products(rng: random.Random, count: int) -> list[_Product]:
    products: list[_Product] = []
    used_gtins: set[str] = set()
    used_models: set[tuple[str, str]] = set()
    brand_categories = {b: rng.sample(sorted(_CATEGORIES), rng.randrange(2, 5)) for b in _BRANDS}
    brand_maker = {b: rng.choice(_MANUFACTURER_FORMS).format(b) for b in _BRANDS}
    letters = "ABCDEFGHJKLMNPRSTVWXZ"

    def gtin() -> str:
        while True:
            prefix = rng.choices(("50", "0", "40", "84", "87"), (60, 20, 8, 6, 6))[0]
            body = prefix + str(rng.randrange(10 ** (12 - len(prefix)))).zfill(12 - len(prefix))
            code = body + _gtin_check(body)
            if code not in used_gtins:
                used_gtins.add(code)
                return code

    while len(products) < count:
        brand = rng.choice(_BRANDS)
        category = rng.choice(brand_categories[brand])
        _, _, types, (lo, hi), colours = _CATEGORIES[category]
        type_names = rng.choice(types)
        prefix = rng.choice(letters) + (rng.choice(letters) if rng.random() < 0.4 else "")
        step = rng.choice((100, 10, 1000))
        base = rng.uniform(lo, (lo + hi) / 2)
        # A family: one brand, type and prefix with several model numbers, so the look-alikes
        # (X200 vs X300) differ only by a digit in the model and by the GTIN.
        for tier in range(1, rng.randrange(2, 6)):
            model = f"{prefix}{tier * step}"
            if (brand, model) in used_models:
                continue
            used_models.add((brand, model))
            r = rng.random()
            n_colours = 1 if r < 0.65 else (2 if r < 0.9 else 3)
            chosen = rng.sample(colours, min(n_colours, len(colours)))
            for colour in chosen:
                # The colour is only in the part number when the model comes in several.
                mpn = model if len(chosen) == 1 else f"{model}-{_COLOUR_CODES[colour]}"
                products.append(
                    _Product(
                        entity_id=f"prod-{len(products) + 1:06d}", brand=brand,
                        manufacturer=brand_maker[brand], category=category,
                        type_names=type_names, model=model, colour=colour, mpn=mpn, gtin=gtin(),
                        price=_price(min(hi, base * (1 + 0.35 * (tier - 1)))),
                    )
                )  # fmt: skip
                if len(products) == count:
                    return products
    return products


def _ean_spelling(rng: random.Random, gtin: str) -> str:
    r = rng.random()
    if gtin.startswith("0") and r < 0.5:
        return gtin[1:]  # stored as UPC-A / leading zero lost in a spreadsheet
    if r < 0.03:
        return ""
    if r < 0.07:
        return f"{gtin[0]} {gtin[1:7]} {gtin[7:]}"
    if r < 0.10:
        return f"{gtin[0]}-{gtin[1:7]}-{gtin[7:]}"
    return gtin


def _erp_description(rng: random.Random, p: _Product) -> str:
    type_name = p.type_names[0]
    r = rng.random()
    if r < 0.5:
        return f"{p.brand} {p.model} {type_name} {p.colour}"
    if r < 0.8:
        words = [_ERP_ABBREV.get(w, w.upper()) for w in type_name.split()]
        return f"{p.brand.upper()} {p.model} {' '.join(words)} {_COLOUR_CODES[p.colour]}"
    return f"{type_name} {p.model} - {p.colour}"


def _model_spelling(rng: random.Random, model: str) -> str:
    r = rng.random()
    if r < 0.7:
        return model
    split = len(model.rstrip("0123456789"))
    if r < 0.85:
        return f"{model[:split]}-{model[split:]}"
    if r < 0.95:
        return model.lower()
    return f"{model[:split]} {model[split:]}"


def _listing_title(rng: random.Random, p: _Product) -> str:
    model = _model_spelling(rng, p.model)
    type_name = rng.choice(p.type_names)
    brand, colour = p.brand, p.colour
    template = rng.randrange(6)
    if template == 0:
        return f"{brand} {model} {type_name} - {colour}"
    if template == 1:
        return f"{brand} {type_name} {model} ({colour})"
    if template == 2:
        return f"{brand} {model} {type_name.lower()}, {colour.lower()}, {rng.choice(_FEATURES)}"
    if template == 3:
        return f"{type_name} {model} by {brand} - {colour}"
    if template == 4:
        return f"NEW {brand.upper()} {model} {type_name} {colour} | {rng.choice(_FEATURES)}"
    return f"{brand} {model} {type_name}"  # no colour: look-alike variants become ambiguous


def _bad_check_digit(rng: random.Random, gtin: str) -> str:
    i = rng.randrange(len(gtin))
    digit = str((int(gtin[i]) + rng.randrange(1, 10)) % 10)
    return gtin[:i] + digit + gtin[i + 1 :]


def write_products(
    rng: random.Random, landing: Path, products: list[_Product]
) -> tuple[dict[str, int], list[tuple[str, str, str]], list[tuple[str, float]],
           list[tuple[str, float, str]]]:  # fmt: skip
    in_erp: list[_Product] = []
    listings: list[tuple[_Product, int]] = []  # (product, copy number)
    for p in products:
        erp = rng.random() < 0.97
        market = rng.random() < 0.70 or not erp
        if erp:
            in_erp.append(p)
        if market:
            r = rng.random()
            n = 1 if r < 0.88 else (2 if r < 0.98 else 3)
            listings.extend((p, i) for i in range(n))
    rng.shuffle(in_erp)
    rng.shuffle(listings)

    truth: list[tuple[str, str, str]] = []
    erp_items: list[tuple[str, float]] = []
    item = 4000
    with (landing / ERP_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ERP_COLUMNS)
        for p in in_erp:
            item += rng.randrange(1, 4)
            key = f"SKU-{item:06d}"
            brand = p.brand.upper() if rng.random() < 0.05 else p.brand
            erp_category = _CATEGORIES[p.category][0]
            writer.writerow([
                key, _erp_description(rng, p), brand, p.manufacturer, p.mpn,
                _ean_spelling(rng, p.gtin), erp_category, f"{p.price:.2f}", "GBP",
                random_time(rng, datetime(2020, 1, 1)).isoformat(),
            ])  # fmt: skip
            truth.append(("erp", key, p.entity_id))
            erp_items.append((key, p.price))

    listing_ids = unique_keys(len(listings), lambda: f"MP-{rng.getrandbits(40):010X}")
    market_items: list[tuple[str, float, str]] = []
    with (landing / MARKETPLACE_FILE).open("w", newline="", encoding="utf-8") as handle:
        sellers_used: dict[str, list[str]] = {}
        for (p, _), key in zip(listings, listing_ids, strict=True):
            taken = sellers_used.setdefault(p.entity_id, [])
            seller = rng.choice([s for s in _SELLERS if s not in taken])
            taken.append(seller)
            r = rng.random()
            listed_brand: str | None = p.brand
            if r < 0.08:
                listed_brand = p.brand.lower()
            elif r < 0.15:
                listed_brand = p.brand.upper()
            elif r < 0.25:
                listed_brand = None
            r = rng.random()
            gtin: str | None = p.gtin
            if r < 0.18:
                gtin = None
            elif r < 0.24:
                gtin = _bad_check_digit(rng, p.gtin)
            elif r < 0.28 and p.gtin.startswith("0"):
                gtin = p.gtin[1:]
            currency = "EUR" if rng.random() < 0.05 else "GBP"
            price = p.price * rng.uniform(0.85, 1.05) * (1.17 if currency == "EUR" else 1.0)
            obj: dict[str, Any] = {"listing_id": key, "title": _listing_title(rng, p)}
            if listed_brand is not None or rng.random() < 0.5:
                obj["brand"] = listed_brand
            if gtin is not None or rng.random() < 0.5:
                obj["gtin"] = gtin
            obj["price"] = _price(price)
            obj["currency"] = currency
            obj["category"] = _CATEGORIES[p.category][1]
            obj["seller"] = seller
            handle.write(json_line(obj) + "\n")
            truth.append(("marketplace", key, p.entity_id))
            market_items.append((key, obj["price"], currency))
    counts = {ERP_FILE: len(in_erp), MARKETPLACE_FILE: len(listings)}
    return counts, truth, erp_items, market_items


def _gtin_check(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return str((10 - total % 10) % 10)
