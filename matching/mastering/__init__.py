"""Mastering: what the resolved clusters become.

Stable master ids, cross-references, id history and review pairs (`masters`), golden records
by survivorship rules (`survivorship`), the master zone one `e360 match` writes (`zone`) and
events conformed to master ids (`events`).
"""
