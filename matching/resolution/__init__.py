"""Resolution: which records are the same entity.

Splink behind one adapter (`splink_adapter`, the only module importing Splink), its backends
(`engine`), the settings builder (`settings`), the trainer (`trainer`, with `safeguards` against
collapsed training), stored model versions (`versions`), the comparisons (`comparisons` for products, `customer_comparisons`), the blocking
budget (`blocking`), the one scorer (`scoring`), thresholds from the data (`thresholds`),
clustering under constraints (`clustering`, `constraints`), one entity's resolution run
(`resolve`) and `e360 train` (`training`).
"""
