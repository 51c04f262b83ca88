"""Queries of remote mode: which subscribers are polled, which documents still have to reach the remote outbox.

A document needs pushing while its current bytes (``sha256``) are not the ones last pushed
(``pushed_sha256``): never pushed, or delivered again under the same path with other bytes. Documents the
retention removed (``removed_at``) are never pushed, and are withdrawn from the remote outbox when they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from gateway.store.models import Document, Subscriber
from gateway.store.repo import Store


@dataclass(frozen=True)
class ToPush:
    """A delivered document whose current bytes are not on the remote outbox yet."""

    id: int
    path: str  # relative to the outbox root: <subscriber>/...
    sha256: str


class RemoteStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def active_subscribers(self) -> list[str]:
        """Numbers of the subscribers not disabled, in order (polled when no list is configured)."""
        with self.store.tx() as s:
            return list(s.scalars(select(Subscriber.number).where(Subscriber.disabled.is_(False))
                                  .order_by(Subscriber.number)))

    def to_push(self, subscribers: list[str] | None = None, *, after: int = 0, limit: int = 500) -> list[ToPush]:
        """Documents to push with an id above ``after``, in id order (page on with the last id);
        only those under ``<subscriber>/`` of ``subscribers`` when given."""
        query = select(Document.id, Document.path, Document.sha256).where(
            Document.id > after,
            Document.removed_at.is_(None),
            or_(Document.pushed_sha256.is_(None), Document.pushed_sha256 != Document.sha256),
        )
        if subscribers is not None:
            if not subscribers:
                return []
            query = query.where(or_(*(Document.path.startswith(f"{n}/", autoescape=True) for n in subscribers)))
        with self.store.tx() as s:
            rows = s.execute(query.order_by(Document.id).limit(limit)).all()
        return [ToPush(i, p, h) for i, p, h in rows]

    def to_withdraw(self, *, after: int = 0, limit: int = 500) -> list[ToPush]:
        """Documents the retention removed from the outbox that are still on the remote outbox, in id order."""
        query = select(Document.id, Document.path, Document.sha256).where(
            Document.id > after, Document.removed_at.is_not(None), Document.pushed_sha256.is_not(None))
        with self.store.tx() as s:
            rows = s.execute(query.order_by(Document.id).limit(limit)).all()
        return [ToPush(i, p, h) for i, p, h in rows]

    def mark_withdrawn(self, doc_id: int) -> None:
        """Not on the remote outbox any more (delivered again, it would be pushed again)."""
        with self.store.tx() as s:
            doc = s.get(Document, doc_id)
            if doc is not None:
                doc.pushed_at, doc.pushed_sha256 = None, None

    def mark_pushed(self, doc_id: int, sha256: str, now: datetime) -> None:
        """``sha256`` is on the remote outbox now (a later delivery with other bytes is pushed again)."""
        with self.store.tx() as s:
            doc = s.get(Document, doc_id)
            if doc is not None:
                doc.pushed_at, doc.pushed_sha256 = now, sha256


__all__ = ["RemoteStore", "ToPush"]
