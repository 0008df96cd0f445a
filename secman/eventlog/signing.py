"""Signing checkpoints of the Event Log: every SECMAN_EVENTLOG_CHECKPOINT_EVERY entries or
_SECONDS seconds, in the transaction of the append that makes one due (services._append),
and on demand (eventlog.checkpoints). A signed checkpoint is mailed to the witnesses, if
any, once its transaction commits, at most one every SECMAN_EVENTLOG_WITNESS_MAIL_SECONDS
(witness_mail_due).
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from secman.eventlog import keys, merkle, note
from secman.eventlog.models import Checkpoint, LogHead


def sign_if_due(head: LogHead, compact: merkle.CompactRange, now: dt.datetime) -> None:
    last = Checkpoint.objects.order_by("-tree_size", "-id").first()
    done = last.tree_size if last else 0
    if compact.size - done >= settings.EVENTLOG_CHECKPOINT_EVERY or (
        compact.size > done
        and (last is None
             or (now - last.time).total_seconds() >= settings.EVENTLOG_CHECKPOINT_SECONDS)
    ):
        sign(head, compact.size, compact.root(), last, now)


def sign(head: LogHead, size: int, root: bytes, last: Checkpoint | None,
         now: dt.datetime) -> Checkpoint:
    """`head` is the locked head row: it holds the origin, which the key's name is."""
    key_row, private = keys.current(head)
    prev_hash = note.note_hash(last.note) if last else None
    body = note.CheckpointBody(
        origin=key_row.name, size=size, root=root,
        time=now.replace(microsecond=0).isoformat().replace("+00:00", "Z"), prev=prev_hash)
    signed = note.sign(body.text(), key_row.name, private)
    checkpoint = Checkpoint.objects.create(
        tree_size=size, root_hash=root.hex(), time=now,
        prev_note_hash=prev_hash.hex() if prev_hash else "", note=signed, key=key_row)
    if witness_mail_due(now):
        transaction.on_commit(lambda: _email_checkpoint(checkpoint.pk))
    return checkpoint


def witness_mail_due(now: dt.datetime) -> bool:
    """The witnesses get at most one checkpoint every SECMAN_EVENTLOG_WITNESS_MAIL_SECONDS.
    A checkpoint is signed within a minute of new entries; a mail a minute would bury the
    copies they are asked to keep. One signed in between goes out when the time comes
    (mail_witnesses_if_due), so the newest checkpoint always reaches them."""
    if not settings.EVENTLOG_WITNESSES:
        return False
    # The newest mailed checkpoint, found from the newest down (a few unmailed ones at
    # most) rather than by scanning every checkpoint's emailed_at.
    last = (Checkpoint.objects.filter(emailed_at__isnull=False).order_by("-id")
            .values_list("emailed_at", flat=True).first())
    return last is None or (
        (now - last).total_seconds() >= settings.EVENTLOG_WITNESS_MAIL_SECONDS)


# A mail that failed is tried again a minute later, not on every look of the loop.
_RETRY_SECONDS = 60
_retry_after = 0.0


def mail_witnesses_if_due() -> bool:
    """Mail the newest checkpoint, if the witnesses have not had it and are due one (the
    checkpoint loop asks every few seconds). True if a mail went out."""
    global _retry_after
    if time.monotonic() < _retry_after or not witness_mail_due(timezone.now()):
        return False
    newest = Checkpoint.objects.order_by("-tree_size", "-id").first()
    if newest is None or newest.emailed_at is not None:
        return False
    if _email_checkpoint(newest.pk):
        return True
    _retry_after = time.monotonic() + _RETRY_SECONDS
    return False



def _email_checkpoint(checkpoint_pk: int) -> bool:
    checkpoint = Checkpoint.objects.get(pk=checkpoint_pk)
    try:
        send_mail(
            f"{settings.EMAIL_SUBJECT_PREFIX}Event Log checkpoint at {checkpoint.tree_size}",
            "Keep this checkpoint. Anyone can later check with it that secman's Event Log "
            "has only grown since now (secman eventlog import-checkpoint FILE).\n\n"
            + checkpoint.note,
            settings.DEFAULT_FROM_EMAIL, settings.EVENTLOG_WITNESSES,
        )
    except OSError:
        logging.getLogger(__name__).exception(
            "could not mail the checkpoint at %s to the witnesses", checkpoint.tree_size)
        return False
    Checkpoint.objects.filter(pk=checkpoint_pk).update(emailed_at=timezone.now())
    return True

