"""Signing checkpoints of the Event Log: every SECMAN_EVENTLOG_CHECKPOINT_EVERY entries or
_SECONDS seconds, in the transaction of the append that makes one due (services._append),
and on demand (eventlog.checkpoints). A signed checkpoint is mailed to the witnesses, if
any, once its transaction commits.
"""

from __future__ import annotations

import datetime as dt
import logging

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
    if settings.EVENTLOG_WITNESSES:
        transaction.on_commit(lambda: _email_checkpoint(checkpoint.pk))
    return checkpoint



def _email_checkpoint(checkpoint_pk: int) -> None:
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
        return
    Checkpoint.objects.filter(pk=checkpoint_pk).update(emailed_at=timezone.now())

