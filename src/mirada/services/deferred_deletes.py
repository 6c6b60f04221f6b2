"""Deleting blob files once the rows that pointed at them are gone for good.

Services do not commit; the door does. A service that deletes a row and its files must
not remove the files before that commit: were the commit to fail, the row would stay and
point at nothing. So the files are named here and deleted after the session commits; a
rollback (of the transaction, or of the savepoint they were named in) keeps them.
A process killed in between leaves files without a row, which ``mirada storage sweep``
removes (see ``services/orphans.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from mirada.storage import BlobStore

_PENDING = "mirada.services.deferred_deletes"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Pending:
    transaction: SessionTransaction
    blobs: BlobStore
    keys: tuple[str, ...]
    prefixes: tuple[str, ...]


def delete_after_commit(
    *, session: Session, blobs: BlobStore, keys: Iterable[str] = (), prefixes: Iterable[str] = ()
) -> None:
    """Delete ``keys`` and every blob under ``prefixes`` when ``session``'s transaction
    commits, not before."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # nothing of this session is waiting to be committed
        _delete(blobs, tuple(keys), tuple(prefixes))
        return
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)
    pending.append(_Pending(transaction, blobs, tuple(keys), tuple(prefixes)))


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: the outer transaction may still roll back
    pending: list[_Pending] = session.info.get(_PENDING, [])
    done, pending[:] = list(pending), []
    for entry in done:
        _delete(entry.blobs, entry.keys, entry.prefixes)


def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_Pending] = session.info.get(_PENDING, [])
    pending[:] = [p for p in pending if not _within(p.transaction, previous_transaction)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def _delete(blobs: BlobStore, keys: tuple[str, ...], prefixes: tuple[str, ...]) -> None:
    for prefix in prefixes:
        try:
            blobs.delete_prefix(prefix)
        except Exception:  # the rows are gone already: the sweep removes what is left
            log.exception("could not delete the blobs under %s", prefix)
    for key in keys:
        try:
            blobs.delete(key)
        except Exception:  # the row is gone already: the sweep removes what is left
            log.exception("could not delete blob %s", key)
