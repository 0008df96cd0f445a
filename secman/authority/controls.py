"""The Board's own controls (SP 9.1.5): decisions about people taken by a Board whose
members active in the area abstained."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from secman.authority.choices import Vote
from secman.authority.models import BoardVote
from secman.core.controls import Control, Finding, Status
from secman.core.roles import TeamKind
from secman.people.choices import ChangeKind, ListKind, ProposalStatus
from secman.people.models import ListChangeProposal, Membership
from secman.people.rules import LIST_RULES


def abstention_findings() -> list[Finding]:
    """SP 9.1.5: "Board members who are also active in the area should abstain from the
    vote". For every Board decision that approved a list change or a team membership, a
    vote for or against by a Board member who was active, on the day of the decision, in
    the team concerned (the list's managing team, or the team joined). "Should": a
    warning, not a breach."""
    # (decision id, team kind, what it approved, url) for every approval by decision.
    approvals: list[tuple[int, str, str, str]] = []
    proposals = (ListChangeProposal.objects.filter(status=ProposalStatus.APPROVED,
                                                   decision__isnull=False)
                 .select_related("access_list", "person"))
    for proposal in proposals:
        assert proposal.decision_id is not None  # the query asks for a decision
        what = (f"adding {proposal.person} to" if proposal.change == ChangeKind.ADD
                else f"removing {proposal.person} from")
        approvals.append((proposal.decision_id,
                          LIST_RULES[ListKind(proposal.access_list.kind)].manager,
                          f"{what} the {proposal.access_list}", proposal.get_absolute_url()))
    joined = (Membership.objects.filter(authority__decision__isnull=False)
              .select_related("team", "person", "authority"))
    for membership in joined:
        assert membership.authority.decision_id is not None  # the query asks for a decision
        approvals.append((membership.authority.decision_id, membership.team.kind,
                          f"{membership.person} joining {membership.team}",
                          membership.team.get_absolute_url()))
    if not approvals:
        return []
    votes = (BoardVote.objects.filter(decision_id__in={a[0] for a in approvals})
             .exclude(vote=Vote.ABSTAIN).select_related("decision", "person"))
    by_decision: dict[int, list[BoardVote]] = defaultdict(list)
    for vote in votes:
        by_decision[vote.decision_id].append(vote)
    # Every membership of every voter, ended ones too: who was active where on the day.
    spans: dict[tuple[int, str], list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for person_id, team_kind, start, end in Membership.objects.filter(
            person_id__in={vote.person_id for vote in votes}).values_list(
            "person_id", "team__kind", "start", "end"):
        spans[person_id, team_kind].append((start, end))

    def active(person_id: int, team_kind: str, day: dt.date) -> bool:
        return any(start <= day and (end is None or end > day)
                   for start, end in spans.get((person_id, team_kind), []))

    findings = []
    for decision_id, team_kind, what, url in approvals:
        for vote in by_decision.get(decision_id, []):
            if active(vote.person_id, team_kind, vote.decision.decided_on):
                findings.append(Finding(
                    "SP 9.1.5",
                    f"{vote.person} voted {vote.get_vote_display().lower()} on "
                    f"{vote.decision.minute_id}, which approved {what}, while active in "
                    f"{TeamKind(team_kind).label}: Board members active in the area should "
                    "abstain", url, status=Status.WARNING,
                    subject=f"vote:{vote.pk}:{team_kind}"))
    return findings


# The id keeps its people. prefix: evaluations and reports recorded before the control
# moved here name it so.
CONTROLS = [
    Control("people.board_abstention", ("SP 9.1.5",),
            "Board members active in a team abstain from the votes that approve its people "
            "and access.", TeamKind.BOARD, check=abstention_findings),
]
