"""Checkpoints and the keys that sign them: a checkpoint on demand or when one is due
(the scheduler), a checkpoint kept outside secman checked and remembered (witnesses), a
new signing key, a new name for the log. The checkpoints an append makes due are signed
by the append itself (services._append, eventlog.signing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from secman.core import channel
from secman.core.authorities import resolve_authority
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, holds_any
from secman.core.validation import check_text
from secman.eventlog import keys, note, signing
from secman.eventlog.models import (
    Checkpoint,
    LogHead,
    RetentionClass,
    SigningKey,
    WitnessCheckpoint,
)
from secman.eventlog.proofs import root_at, tree_size
from secman.eventlog.selectors import require_sysadmin
from secman.eventlog.services import _frontier, _locked_head, record


def change_origin(new: str, *, authority: Any, actor: Any | None = None,
                  actor_label: str = "secman command line") -> tuple[str, Checkpoint]:
    """Rename the log (its origin): retire every signing key, make the key that signs as
    `new` (the configured key file's key, or a new one), record the change with the old
    and the new name, and sign a checkpoint under the new name at once, linked to the
    last one under the old name. Returns (old name, that checkpoint). Old checkpoints
    keep verifying with their keys, which keep their names (keys.verifier_keys)."""
    require_sysadmin(actor, "renaming the Event Log")
    try:
        note.check_key_name(new)
    except note.NoteError as exc:
        raise RuleViolation(f"{new!r} cannot name the log: {exc}", field="origin") from None
    if settings.EVENTLOG_ORIGIN_EXPLICIT and new != settings.EVENTLOG_ORIGIN:
        raise RuleViolation(f"SECMAN_EVENTLOG_ORIGIN is {settings.EVENTLOG_ORIGIN!r}: set it "
                            f"to {new!r} (or unset it) to rename the log to {new!r}",
                            field="origin")
    with transaction.atomic():
        authority_row = resolve_authority(authority)
        head = _locked_head()
        old = head.origin or settings.EVENTLOG_ORIGIN
        if new == head.origin:
            raise RuleViolation(f"the log is named {new!r} already", field="origin")
        retired, key = keys.replace_key(head, new)
        record("eventlog.origin.change", actor=actor, actor_label=actor_label,
               authority=authority_row, subject=key,
               retention_class=RetentionClass.CONFIGURATION,
               details={"old": old, "new": new, "retired": [row.key_id for row in retired],
                        "key": key.key_id, "verifier_key": keys.verifier_key(key)})
        head = _locked_head()  # as the entry left it
        last = Checkpoint.objects.order_by("-tree_size", "-id").first()
        if last is not None and last.tree_size == head.seq and last.key_id == key.pk:
            return old, last  # the entry's own append signed it
        compact = _frontier(head)
        return old, signing.sign(head, compact.size, compact.root(), last, timezone.now())


def rotate_key() -> tuple[SigningKey, SigningKey]:
    """Retire the current key and make a new one under the same origin; returns (old,
    new). Checkpoints name their key, so old checkpoints still verify with the retired
    key's public half."""
    if settings.EVENTLOG_KEY_FILE:
        raise ValueError("the signing key comes from SECMAN_EVENTLOG_KEY_FILE: rotate it "
                         "there and point the setting at the new file")
    with transaction.atomic():
        head = _locked_head()
        name = keys._fixed_origin(head)
        unretired = SigningKey.objects.filter(retired_at__isnull=True, name=name).first()
        if unretired is None:
            old, _ = keys.current(head)
        else:
            old = unretired
        _, new = keys.replace_key(head, name)
        # The log says when its signer changed (the checkpoints name their key ids).
        record("eventlog.key.rotate", actor=None, actor_label="secman command line",
               authority="SM 4.2.2", subject=new,
               retention_class=RetentionClass.CONFIGURATION,
               details={"retired": old.key_id, "new": new.key_id,
                        "verifier_key": keys.verifier_key(new)})
    old.refresh_from_db()
    return old, new


def write_checkpoint(actor: Any | None = None) -> Checkpoint:
    """Sign a checkpoint of the log as it is now (on demand, or by the scheduler). If the
    newest checkpoint already covers every entry, it is returned instead."""
    require_sysadmin(actor, "a checkpoint on demand")
    with transaction.atomic():
        head = _locked_head()
        last = Checkpoint.objects.order_by("-tree_size", "-id").first()
        if last is not None and last.tree_size == head.seq:
            return last
        compact = _frontier(head)
        return signing.sign(head, compact.size, compact.root(), last, timezone.now())


def checkpoint_if_due(early: float = 0) -> Checkpoint | None:
    """For the scheduler: a checkpoint when entries wait longer than the configured time
    (SECMAN_EVENTLOG_CHECKPOINT_SECONDS since the newest checkpoint). `early`: sign that
    many seconds before then, so a loop that looks every `early` seconds never lets an
    entry wait longer than the configured time (upkeep.checkpoint_poll_seconds)."""
    # A checkpoint signed while the witnesses' mail was not due goes out once it is.
    signing.mail_witnesses_if_due()
    # Looked at without a lock first: the loop asks every few seconds, and the head's
    # lock (SQLite's write lock) would hold up appends for nothing most of the time.
    head_seq = LogHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    newest = Checkpoint.objects.order_by("-tree_size", "-id").first()
    if newest is not None and newest.tree_size >= head_seq:
        return None
    with transaction.atomic():
        head = _locked_head()
        now = timezone.now()
        compact = _frontier(head)
        last = Checkpoint.objects.order_by("-tree_size", "-id").first()
        if last is not None and early and compact.size > last.tree_size and (
                now - last.time >= dt.timedelta(
                    seconds=settings.EVENTLOG_CHECKPOINT_SECONDS - early)):
            return signing.sign(head, compact.size, compact.root(), last, now)
        signing.sign_if_due(head, compact, now)
        newest = Checkpoint.objects.order_by("-tree_size", "-id").first()
        if newest is not None and newest != last:
            return newest
    return None



# --- witnesses ----------------------------------------------------------------------------


def may_store_witness(person: Any) -> bool:
    """Bring back a witness's copy of a checkpoint, which secman keeps with its source:
    those the checkpoints are mailed to, that is a person whose address is among
    SECMAN_EVENTLOG_WITNESSES, and the Systems Administrators, whose list receives them
    (SM 4.2.2). `None` is the operator at the command line, who holds the database."""
    if person is None:
        return True
    if holds_any(person, Role.SYSTEMS_ADMINISTRATOR):
        return True
    address = (getattr(person, "email", "") or "").strip().lower()
    return bool(address) and address in {w.strip().lower() for w in settings.EVENTLOG_WITNESSES}


def require_witness_keeper(person: Any) -> None:
    """Refuse, before reading the copy, whoever may not store one (may_store_witness)."""
    if not may_store_witness(person):
        raise NotAllowed("witnessed checkpoints are brought back by the witnesses the "
                         "checkpoints are mailed to (SECMAN_EVENTLOG_WITNESSES) and by "
                         "Systems Administrators", section="SM 4.2.2")


def _recorded_by_label(actor: Any) -> str:
    via = channel.current()
    who = getattr(actor, "name", "") or "secman command line"
    if via is None:
        return who
    return f"{who} ({via.name}, os user {via.os_user})" if via.os_user else f"{who} ({via.name})"


def import_checkpoint(note_text: str, *, source: str, actor: Any = None) -> WitnessCheckpoint:
    """Check a checkpoint kept outside secman against the log now, and remember it with
    who brought it (`actor`: a person, or None for the operator's command line)."""
    require_witness_keeper(actor)
    check_text(WitnessCheckpoint, {"source": source})
    # A copy saved from the witnesses' mail has the mail's CRLF line endings.
    note_text = note_text.replace("\r\n", "\n")
    try:
        signed = note.SignedNote.parse(note_text)
        body = note.CheckpointBody.parse(signed.text)
    except note.NoteError as exc:
        raise ValueError(f"not a checkpoint: {exc}") from None
    verifiers = [note.Verifier.parse(v) for v in keys.verifier_keys()]
    # The origin first: another log's checkpoint is not a forgery of this one. A copy
    # signed before the log was renamed carries a name the log had.
    if body.origin not in keys.names():
        consistent, message = False, f"it is for another log ({body.origin})"
    elif not any(signed.verify(v) for v in verifiers):
        consistent, message = False, "its signature does not verify with any of secman's keys"
    elif body.size > tree_size():
        consistent, message = False, (f"it covers {body.size} entries but the log has only "
                                      f"{tree_size()}: entries were removed")
    elif root_at(body.size) != body.root:
        consistent, message = False, (f"the first {body.size} entries no longer hash to its "
                                      "root: the log was changed after it was published")
    else:
        consistent, message = True, (f"consistent: the log has grown from {body.size} to "
                                     f"{tree_size()} entries without changing")
    with transaction.atomic():
        return WitnessCheckpoint.objects.create(
            note=note_text, tree_size=body.size, root_hash=body.root.hex(),
            source=source, consistent=consistent, message=message,
            recorded_by=actor, recorded_by_label=_recorded_by_label(actor)[:200])



# --- a companion log's checkpoints --------------------------------------------------------


def companion_signer(suffix: str) -> tuple[SigningKey, str, Any]:
    """The key that signs the checkpoints of a log kept beside the Event Log (the
    systems' logs: logs.tree): the Event Log's current key, under the name
    `<origin>/<suffix>`. The name is the checkpoint's origin and is hashed into the key
    id, so a checkpoint of one log can never pass for one of the other, and an auditor
    pins one key for both. Returns (key row, name, private key)."""
    with transaction.atomic():
        row, private = keys.current(_locked_head())
    return row, f"{row.name}/{suffix}", private
