"""The demo's leaver, with the open termination checklist: Erik Nilsson, a third Support
Engineer (added here so that no other part of the demo loses a person), resigned. His
membership ended, which opened the checklist for Hana, the Support team leader; Samir,
the Systems Administration team leader, removed his access (his SSH key is blocked; he
was on no list, so there was nothing for the Board to approve); the minor passwords were
analysed (step 3). Steps 1, 2, 4 and 5 are open: the checklist shows on Hana's Today and
as a finding of SM 9.1.7 until she closes it."""

from __future__ import annotations

from typing import Any

from secman.authority.models import BoardDecision
from secman.core.roles import Role, TeamKind
from secman.people import services as people
from secman.people.models import Membership, Team
from secman.privileged import checklists, keys, removals
from secman.privileged.models import TerminationChecklist

LEAVER = "erik"
# A public key (of a private key made from the bytes 0..31, for the demo only).
LEAVER_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSV"
              "TG4 erik@laptop")


def load(people_by_login: dict[str, Any]) -> None:
    """A membership ends: the checklist opens."""
    hana, samir = people_by_login["hana"], people_by_login["samir"]
    staffing = BoardDecision.objects.filter(
        confirmed_by__isnull=False).order_by("decided_on", "pk").first()  # the staffing
    assert staffing is not None
    erik = people.create_person(
        actor=None, authority="SP 9.1.3", name="Erik Nilsson", email=f"{LEAVER}@example.org",
        member_number="D-1099")  # no login: he has left
    people_by_login[LEAVER] = erik
    support = Team.objects.get(kind=TeamKind.SUPPORT)
    people.add_member(actor=None, team=support, person=erik, role=Role.SUPPORT_ENGINEER,
                      start=staffing.decided_on, authority=staffing)
    keys.add_key(actor=samir, person=erik, public_key=LEAVER_KEY, authority="SM 3.4.3")
    people.end_membership(
        actor=hana, membership=Membership.objects.active().get(person=erik, team=support),
        authority="SP 9.1.7", reason="Resigned: moves abroad and leaves CAcert.")
    removals.remove_access(actor=samir, person=erik, event="termination",
                           reason="Erik resigned from the Support team.",
                           authority="SP 9.1.7")
    checklist = TerminationChecklist.objects.get(person=erik, status="open")
    checklists.complete_step(
        actor=hana, step=checklist.steps.get(number=3),
        evidence="The support tool's database password was known to Erik; analysed with "
        "Samir: low sensitivity (read-only replica), changed anyway on the next rotation.")
