"""Master search: by name, e-mail, master id or source key; folded; bounded; best first."""

from __future__ import annotations

from typing import Any

from stewardship.app.lakeview import EntityView
from stewardship.app.master_search import MasterIndex, MasterSearch, fold


def _view(people: dict[str, list[tuple[str, str, str]]]) -> EntityView:
    """master id -> [(record id, full name, e-mail)]"""
    records: dict[str, dict[str, Any]] = {}
    golden: dict[str, dict[str, Any]] = {}
    masters: dict[str, str] = {}
    for master_id, members in people.items():
        for record_id, name, email in members:
            records[record_id] = {"record_id": record_id, "full_name": name, "email": email}
            masters[record_id] = master_id
        _, name, email = members[0]
        sources = ",".join(sorted({r.split(":")[0] for r, _, _ in members}))
        golden[master_id] = {"full_name": name, "email": email, "sources": sources}
    members_of: dict[str, list[str]] = {}
    for record_id, master_id in sorted(masters.items()):
        members_of.setdefault(master_id, []).append(record_id)
    return EntityView("customer", records, masters, members_of, golden, [], "run-1")


VIEW = _view(
    {
        "CUS-1": [("crm:C001", "zoe muller", "zoe@example.com")],
        "CUS-2": [("crm:C002", "anne zoeller", "az@example.com"), ("shop:S9", "ann zoeller", "")],
        "CUS-3": [("crm:C003", "mark jones", "mj@example.com")],
    }
)


def _ids(query: str, **kwargs: Any) -> list[str]:
    return [h.master_id for h in MasterIndex(VIEW).search(query, **kwargs).hits]


def test_case_and_accents_do_not_matter() -> None:
    assert fold("Zoë MÜLLER") == "zoe muller"
    assert _ids("ZOË Müller") == ["CUS-1"]


def test_by_email_master_id_and_source_key() -> None:
    assert _ids("MJ@Example.com") == ["CUS-3"]
    assert _ids("cus-2") == ["CUS-2"]
    assert _ids("shop:S9") == ["CUS-2"]
    assert _ids("c003") == ["CUS-3"]  # the key without its source


def test_every_word_counts_and_name_prefixes_rank_first() -> None:
    assert _ids("zoe") == ["CUS-1", "CUS-2"]  # "zoe muller" starts so; "anne zoeller" holds it
    assert _ids("zoe ann") == ["CUS-2"]
    assert _ids("nobody") == [] and _ids("   ") == []


def test_results_are_bounded_and_exclude_the_master_merged_into() -> None:
    found = MasterIndex(VIEW).search("example", limit=2)
    assert len(found.hits) == 2 and found.more
    assert _ids("zoe", exclude="CUS-1") == ["CUS-2"]
    hit = MasterIndex(VIEW).hit("CUS-2")
    assert (hit.name, hit.email, hit.sources, hit.members) == (
        "anne zoeller",
        "az@example.com",
        "crm, shop",
        2,
    )


def test_an_index_is_rebuilt_for_a_new_view_only() -> None:
    search = MasterSearch()
    first = search.index(VIEW)
    assert search.index(VIEW) is first
    assert search.index(_view({"CUS-9": [("crm:C9", "x y", "")]})) is not first
