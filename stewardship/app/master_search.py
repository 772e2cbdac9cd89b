"""Finding a master by what a steward knows of it: a name, an e-mail, its master id or a
member's source key (`crm:C000123`, or the key alone).

Searched in the master zone the app already reads (golden records, their members'
standardized records), case and accent folded (Zoë finds zoe), every word of the query
required; at most `limit` results, best first: an exact id or key, then names starting with
the query, then the rest. The folded text of each master is built once per master snapshot.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass

from stewardship.app.lakeview import LABEL_ATTRIBUTES, EntityView

LIMIT = 20
# What a master is found by, beyond its ids: the attributes a steward would type.
SEARCHED_ATTRIBUTES = {
    "customer": ("full_name", "first_name", "last_name", "email", "company_name", "phone"),
    "product": ("title", "brand", "model_number", "gtin", "sku"),
}


@dataclass(frozen=True)
class MasterHit:
    master_id: str
    name: str
    email: str
    sources: str
    members: int


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[MasterHit]
    more: bool  # more masters matched than are shown


def fold(text: str) -> str:
    """Lower case without accents: "Zoë Müller" -> "zoe muller"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class _Entry:
    master_id: str
    ids: frozenset[str]  # folded master id, member record ids and their bare keys
    names: tuple[str, ...]  # folded names, for ranking prefixes first
    text: str  # everything searched, folded


class MasterIndex:
    def __init__(self, view: EntityView) -> None:
        self.view = view
        self.entries = [_entry(view, master_id) for master_id in sorted(view.members)]

    def search(self, query: str, *, limit: int = LIMIT, exclude: str | None = None) -> SearchResult:
        folded = fold(query.strip())
        words = folded.split()
        if not words:
            return SearchResult(query, [], False)
        ranked: list[tuple[int, str, _Entry]] = []
        for entry in self.entries:
            if entry.master_id == exclude or not all(w in entry.text for w in words):
                continue
            if folded in entry.ids:
                rank = 0
            elif any(name.startswith(folded) for name in entry.names):
                rank = 1
            else:
                rank = 2
            ranked.append((rank, entry.names[0] if entry.names else "", entry))
        ranked.sort(key=lambda r: (r[0], r[1], r[2].master_id))
        hits = [self.hit(entry.master_id) for _, _, entry in ranked[:limit]]
        return SearchResult(query, hits, len(ranked) > limit)

    def hit(self, master_id: str) -> MasterHit:
        golden = self.view.golden.get(master_id) or {}
        members = self.view.members.get(master_id, [])
        sources = golden.get("sources") or ",".join(sorted({m.split(":")[0] for m in members}))
        return MasterHit(
            master_id=master_id,
            name=_name(self.view, master_id),
            email=str(golden.get("email") or ""),
            sources=str(sources).replace(",", ", "),
            members=len(members),
        )


def _name(view: EntityView, master_id: str) -> str:
    golden = view.golden.get(master_id) or {}
    for attribute in LABEL_ATTRIBUTES.get(view.entity, ()):
        if golden.get(attribute):
            return str(golden[attribute])
    members = view.members.get(master_id, [])
    return view.label(members[0]) if members else master_id


def _entry(view: EntityView, master_id: str) -> _Entry:
    members = view.members.get(master_id, [])
    attributes = SEARCHED_ATTRIBUTES.get(view.entity, ())
    rows = [view.golden.get(master_id) or {}, *(view.records.get(m) or {} for m in members)]
    values = {fold(str(row[a])) for row in rows for a in attributes if row.get(a)}
    ids = {fold(master_id)}
    for member in members:
        ids.add(fold(member))
        ids.add(fold(member.split(":", 1)[-1]))
    names = tuple(
        fold(str(row[a]))
        for row in rows
        for a in LABEL_ATTRIBUTES.get(view.entity, ())
        if row.get(a)
    )
    return _Entry(master_id, frozenset(ids), names, " | ".join(sorted(values | ids)))


class MasterSearch:
    """One index per entity, rebuilt when a run has committed new masters."""

    def __init__(self) -> None:
        self._indexes: dict[str, MasterIndex] = {}
        self._lock = threading.Lock()

    def index(self, view: EntityView) -> MasterIndex:
        with self._lock:
            index = self._indexes.get(view.entity)
            if index is not None and index.view is view:
                return index
        index = MasterIndex(view)
        with self._lock:
            self._indexes[view.entity] = index
        return index


SEARCH = MasterSearch()  # the app's views are per process and cached by snapshot (lakeview)
