"""What people tells the chapters above it, inside the transaction that made the change.

SM 9.1.7's termination checklist (secman.privileged) opens when a membership ends or a
person leaves a list; people sits below that chapter and may not import it, so it sends
these signals and the chapter connects to them in its AppConfig.ready(). A receiver runs
inside the same transaction: if it raises, the change it reacted to is not made either.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by people.services.end_membership with membership= and actor= (the Person or
# None for the command line).
membership_ended = Signal()

# Sent by people.services.approve_proposal for an approved removal, with entry= (the
# ListEntry just closed), proposal= and actor=.
list_entry_removed = Signal()

# Sent when a list change proposal is approved, rejected or withdrawn, with proposal=
# (its status says which) and actor=. An approved removal sends list_entry_removed first.
proposal_closed = Signal()
