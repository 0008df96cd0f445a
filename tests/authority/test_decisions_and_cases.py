"""Board decisions (SP 9.1.5) and Arbitration cases (SP 9.1.4) as authorities (SP 1.2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from secman.authority import arbitration, services
from secman.authority.choices import CaseStatus
from secman.authority.models import ArbitrationCase, Authority, BoardDecision, BoardVote
from secman.authority.signoff import TASK, four_eyes
from secman.core.authorities import AuthorityKind
from secman.core.errors import NotAllowed, RuleViolation
from secman.core.roles import Role, TeamKind
from secman.eventlog.models import Event
from secman.people import services as people_services
from secman.people.models import Membership

pytestmark = pytest.mark.django_db


def last_seq() -> int:
    event = Event.objects.order_by("-seq").first()
    return event.seq if event else 0


def actions_since(seq: int) -> list[str]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").values_list("action", flat=True))


def today() -> dt.date:
    return timezone.localdate()


def decide(org, votes, n=2, actor="bea", **overrides):
    values = {"minute_id": f"m{today():%Y%m%d}.{n}", "decided_on": today(),
              "title": "Access for Sue", "text": "Sue joins the Physical Access List.",
              "votes": votes} | overrides
    return services.record_board_decision(actor=getattr(org, actor), **values)


def case(org, n=1, **overrides):
    values = {"number": f"a{today():%Y%m%d}.{n}", "title": "ABC of Nina", "filed_on": today(),
              "arbitrator": org.arne, "case_manager": org.cora} | overrides
    return arbitration.file_case(actor=org.cora, **values)


def second_arbitrator(org):
    ari = people_services.create_person(actor=org.bea, authority="SP 9.1.3", name="Ari",
                                        email="ari@example.org")
    people_services.add_member(actor=org.bea, team=org.teams[TeamKind.ARBITRATION], person=ari,
                               role=Role.ARBITRATOR, authority=org.decision)
    return ari


# --- Board decisions ----------------------------------------------------------------------


def test_it_records_a_decision_with_its_votes(org):
    seq = last_seq()
    decision = decide(org, {org.bea: "aye", org.tom: "aye", org.ida: "abstain"},
                      minute_id=f" M{today():%Y%m%d}.2 ")
    assert decision.minute_id == f"m{today():%Y%m%d}.2"
    assert decision.tally() == {"aye": 2, "naye": 0, "abstain": 1}
    assert decision.carried
    assert BoardVote.objects.filter(decision=decision).count() == 3
    assert actions_since(seq) == ["authority.decision.record"]
    event = Event.objects.get(seq=seq + 1)
    assert event.details["votes"] == {"Bea": "aye", "Tom": "aye", "Ida": "abstain"}
    assert event.details["tally"] == {"aye": 2, "naye": 0, "abstain": 1}
    assert event.details["carried"] is True
    assert event.authority == decision.minute_id


@pytest.mark.parametrize(
    ("votes", "carried"),
    [
        (("aye", "naye", "naye"), False),
        (("aye", "naye", "abstain"), False),  # a tie does not carry
        (("aye", "abstain", "abstain"), True),
        (("abstain", "abstain", "abstain"), False),
        (("naye", "abstain", "aye"), False),
    ],
)
def test_it_counts_abstentions_apart(org, votes, carried):
    decision = decide(org, dict(zip((org.bea, org.tom, org.ida), votes, strict=True)))
    assert decision.carried is carried
    assert decision.tally()["abstain"] == votes.count("abstain")


@pytest.mark.parametrize("voter", ["sam", "arne", "nobody", "admin"])
def test_it_takes_votes_only_from_board_members(org, voter):
    seq = last_seq()
    with pytest.raises(RuleViolation) as exc_info:
        decide(org, {org.bea: "aye", getattr(org, voter): "aye"})
    assert "not a Board member" in str(exc_info.value)
    assert "SP 9.1.5" in str(exc_info.value)
    assert not BoardDecision.objects.filter(minute_id=f"m{today():%Y%m%d}.2").exists()
    assert actions_since(seq) == []


def test_it_takes_votes_only_from_members_of_the_board_on_the_day(org):
    # The Board members joined 30 days ago; a decision of 40 days ago had other voters.
    earlier = today() - dt.timedelta(days=40)
    with pytest.raises(RuleViolation, match="was not a Board member on"):
        decide(org, {org.bea: "aye"}, minute_id=f"m{earlier:%Y%m%d}.1", decided_on=earlier)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"minute_id": "board meeting"}, "not a minute id"),
        ({"minute_id": "m20230229.1"}, "real date"),
        ({"minute_id": "a20230228.1"}, "not a minute id"),
        ({"decided_on": today() + dt.timedelta(days=1)}, "future"),
        ({"title": " "}, "title"),
        ({"text": ""}, "text"),
        ({"votes": {}}, "votes"),
    ],
)
def test_it_refuses_a_bad_decision_and_writes_nothing(org, overrides, words):
    seq, count = last_seq(), BoardDecision.objects.count()
    votes = overrides.pop("votes", None)
    with pytest.raises(RuleViolation, match=words):
        decide(org, {org.bea: "aye"} if votes is None else votes, **overrides)
    assert BoardDecision.objects.count() == count
    assert actions_since(seq) == []


def test_it_refuses_an_unknown_vote(org):
    with pytest.raises(RuleViolation, match="aye, naye or abstain"):
        decide(org, {org.bea: "yes"})


def test_it_refuses_a_minute_id_recorded_already(org):
    with pytest.raises(RuleViolation, match="already recorded"):
        decide(org, {org.bea: "aye"}, minute_id=org.decision.minute_id.upper(),
               decided_on=org.decision.decided_on)


def test_it_lets_board_members_and_the_administrator_minute_decisions(org):
    with pytest.raises(NotAllowed):
        decide(org, {org.bea: "aye"}, actor="sam")
    decision = decide(org, {org.bea: "aye"}, actor="admin")
    assert decision.recorded_by == org.admin


# --- confirming the minutes (SP 1.2: two people) -------------------------------------------


def test_it_confirms_minutes_by_a_second_board_member_in_one_entry(org):
    decision = decide(org, {org.bea: "aye", org.tom: "aye", org.ida: "abstain"})
    assert not decision.confirmed
    seq = last_seq()
    services.confirm_board_decision(actor=org.ida, decision=decision)
    decision.refresh_from_db()
    assert (decision.confirmed_by, decision.confirmed) == (org.ida, True)
    assert actions_since(seq) == ["authority.decision.confirm"]
    event = Event.objects.get(seq=seq + 1)
    assert event.actor == org.ida
    assert event.authority == decision.minute_id
    assert event.subject_id == str(decision.pk)
    assert event.details["recorded_by"] == "Bea"
    assert event.details["tally"] == {"aye": 2, "naye": 0, "abstain": 1}
    assert services.resolve_authority(decision).decision == decision


def test_it_refuses_the_recorder_confirming_their_own_minutes_and_writes_nothing(org):
    decision = decide(org, {org.bea: "aye", org.tom: "aye"})
    assert not services.may_confirm_decision(org.bea, decision)
    seq = last_seq()
    with pytest.raises(NotAllowed, match="a second Board member must confirm"):
        services.confirm_board_decision(actor=org.bea, decision=decision)
    decision.refresh_from_db()
    assert (decision.confirmed_by, decision.confirmed_at) == (None, None)
    assert actions_since(seq) == []


@pytest.mark.parametrize(("who", "words"), [
    ("sam", "only an active Board member"),
    ("arne", "only an active Board member"),
    ("aud", "only an active Board member"),
    ("nobody", "only an active Board member"),
    ("admin", "the secman administrator records minutes"),
])
def test_it_lets_only_board_members_confirm_and_writes_nothing_else(org, who, words):
    decision = decide(org, {org.bea: "aye", org.tom: "aye"}, actor="admin")
    assert not services.may_confirm_decision(getattr(org, who), decision)
    seq = last_seq()
    with pytest.raises(NotAllowed, match=words):
        services.confirm_board_decision(actor=getattr(org, who), decision=decision)
    assert not BoardDecision.objects.get(pk=decision.pk).confirmed
    assert actions_since(seq) == []
    # What the administrator minuted on the Board's behalf, any Board member confirms.
    assert services.may_confirm_decision(org.bea, decision)
    services.confirm_board_decision(actor=org.bea, decision=decision)


def test_it_refuses_a_board_member_whose_membership_ended(org):
    decision = decide(org, {org.bea: "aye", org.tom: "aye"})
    membership = Membership.objects.active().get(person=org.ida)
    people_services.end_membership(actor=org.bea, membership=membership, reason="resigned",
                                   authority="SP 9.1.7")
    with pytest.raises(NotAllowed, match="only an active Board member"):
        services.confirm_board_decision(actor=org.ida, decision=decision)


def test_it_confirms_the_minutes_once(org):
    decision = decide(org, {org.bea: "aye", org.tom: "aye"})
    decision = services.confirm_board_decision(actor=org.tom, decision=decision)
    assert not services.may_confirm_decision(org.ida, decision)
    seq = last_seq()
    with pytest.raises(RuleViolation, match="confirmed already by Tom"):
        services.confirm_board_decision(actor=org.ida, decision=decision)
    assert BoardDecision.objects.get(pk=decision.pk).confirmed_by == org.tom
    assert actions_since(seq) == []


def test_the_database_refuses_minutes_confirmed_by_their_recorder(org):
    decision = decide(org, {org.bea: "aye"})
    decision.confirmed_by, decision.confirmed_at = org.bea, timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        decision.save()


def test_it_lists_for_each_person_the_minutes_they_may_confirm(org):
    by_bea = decide(org, {org.bea: "aye"}, n=2)
    by_admin = decide(org, {org.bea: "aye"}, n=3, actor="admin")
    decide(org, {org.bea: "aye"}, n=4, actor="tom")
    services.confirm_board_decision(actor=org.bea, decision=BoardDecision.objects.get(
        minute_id=f"m{today():%Y%m%d}.4"))
    unconfirmed = list(BoardDecision.objects.filter(confirmed_at__isnull=True))
    assert set(unconfirmed) == {by_bea, by_admin}
    for person in org.people.values():
        assert set(services.decisions_to_confirm(person)) == {
            d for d in unconfirmed if services.may_confirm_decision(person, d)}, person
    assert set(services.decisions_to_confirm(org.tom)) == {by_bea, by_admin}
    assert set(services.decisions_to_confirm(org.bea)) == {by_admin}
    assert services.decisions_to_confirm(org.admin) == []
    assert services.decisions_to_confirm(None) == []


def test_it_offers_only_confirmed_decisions_to_cite(org):
    carried = decide(org, {org.bea: "aye"}, n=2)
    failed = decide(org, {org.bea: "naye"}, n=3)
    assert set(services.citable_decisions()) == {org.decision}
    for decision in (carried, failed):
        services.confirm_board_decision(actor=org.tom, decision=decision)
    assert set(services.citable_decisions()) == {org.decision, carried}
    assert set(services.citable_decisions(carried=False)) == {org.decision, carried, failed}


# --- authority ----------------------------------------------------------------------------


def test_it_uses_a_carried_decision_as_authority(org):
    authority = services.resolve_authority(org.decision.minute_id)
    assert authority.kind == AuthorityKind.BOARD_DECISION
    assert authority.decision == org.decision
    assert services.resolve_authority(org.decision) == authority
    assert services.resolve_authority(authority) == authority


def test_it_refuses_a_decision_that_was_not_carried_as_authority(org):
    failed = decide(org, {org.bea: "aye", org.tom: "naye", org.ida: "abstain"})
    services.confirm_board_decision(actor=org.tom, decision=failed)
    with pytest.raises(RuleViolation) as exc_info:
        services.resolve_authority(failed.minute_id)
    assert "was not carried (1 aye, 1 naye, 1 abstaining)" in str(exc_info.value)
    assert not Authority.objects.filter(reference=failed.minute_id).exists()


def unconfirmed_uses(org, decision):
    """Every kind of action that cites a Board decision, each a call that should refuse."""
    from secman.compliance import services as compliance_services
    from secman.people import services as people
    from secman.people.models import AccessList

    proposal = people.propose_list_change(
        actor=org.sam, access_list=AccessList.objects.get(kind="physical_access"),
        person=org.sue, change="add", reason="r")
    nina = people.create_person(actor=org.bea, authority="SP 9.1.3", name="Nina",
                                email="nina@example.org")
    return {
        "resolve_authority": lambda: services.resolve_authority(decision.minute_id),
        "resolve_authority, carried or not": lambda: services.resolve_authority(
            decision, carried=False),
        "a new team member": lambda: people.add_member(
            actor=org.bea, team=org.teams[TeamKind.SUPPORT], person=nina,
            role=Role.SUPPORT_ENGINEER, authority=decision),
        "a list change approved": lambda: people.approve_proposal(
            actor=org.tom, proposal=proposal, decision=decision),
        "a list change rejected": lambda: people.reject_proposal(
            actor=org.tom, proposal=proposal, decision=decision.minute_id),
        "a sign-off request": lambda: services.request_signoff(
            actor=org.sam, action=TASK, title="t",
            requirement=four_eyes(Role.SYSTEMS_ADMINISTRATOR, Role.SYSTEMS_ADMINISTRATOR),
            authority=decision.minute_id),
        "an accepted exception": lambda: compliance_services.accept(
            actor=org.bea, control_id="people.redundancy", kind="exception", reason="r",
            authority=decision, expires_on=today() + dt.timedelta(days=30)),
    }


def test_it_refuses_an_unconfirmed_decision_as_authority_everywhere(org):
    decision = decide(org, {org.bea: "aye", org.tom: "aye", org.ida: "aye"})
    uses = unconfirmed_uses(org, decision)
    seq = last_seq()
    for name, use in uses.items():
        with pytest.raises(RuleViolation) as exc_info:
            use()
        assert str(exc_info.value) == (
            f"Board decision {decision.minute_id} is not confirmed yet: a second Board member "
            "must confirm the minutes (SP 1.2)"), name
    assert actions_since(seq) == []
    assert not Authority.objects.filter(reference=decision.minute_id).exists()


def test_it_refuses_an_unrecorded_decision_or_case_as_authority(org):
    with pytest.raises(RuleViolation, match="record the decision first"):
        services.resolve_authority("m20200101.1")
    with pytest.raises(RuleViolation, match="record the case first"):
        services.resolve_authority("a20200101.1")
    assert not Authority.objects.filter(reference__in=["m20200101.1", "a20200101.1"]).exists()


def test_it_makes_one_authority_per_section_however_it_is_spelt(org):
    first = services.resolve_authority("SP 3.4.2")
    assert services.resolve_authority("sp §3.4.2.") == first
    assert services.resolve_authority("SP\u00a03.4.2") == first
    assert (first.document, first.section) == ("SP", "3.4.2")


def test_it_refuses_free_text_as_authority(org):
    with pytest.raises(RuleViolation) as exc_info:
        services.resolve_authority("approved by Bea on the phone")
    assert "free text is not an authority" in str(exc_info.value)
    assert '"SP 3.4.2"' in str(exc_info.value)


def test_it_refuses_an_authority_of_the_wrong_kind(org):
    with pytest.raises(RuleViolation) as exc_info:
        services.resolve_authority("SP 3.4.2", kinds=[AuthorityKind.BOARD_DECISION],
                                   why="the Board decides")
    assert "SP 3.4.2 is a section of the security policy or manual" in str(exc_info.value)
    assert "the Board decides" in str(exc_info.value)


# --- Arbitration cases --------------------------------------------------------------------


def test_it_files_a_case_and_uses_it_as_authority(org):
    seq = last_seq()
    filed = case(org, number=f"A{today():%Y%m%d}.1")
    assert filed.number == f"a{today():%Y%m%d}.1"
    assert filed.status == CaseStatus.RUNNING
    assert actions_since(seq) == ["authority.case.file"]
    authority = services.resolve_authority(filed.number)
    assert authority.kind == AuthorityKind.ARBITRATION
    assert authority.case == filed


def test_it_files_an_unassigned_case_as_filed(org):
    assert case(org, arbitrator=None, case_manager=None).status == CaseStatus.FILED


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"number": "case 12"}, "not a case number"),
        ({"number": "a20091301.1"}, "real date"),
        ({"title": ""}, "title"),
        ({"filed_on": today() + dt.timedelta(days=2)}, "future"),
        ({"arbitrator": "cora", "case_manager": None}, "not an Arbitrator"),
        ({"case_manager": "arne"}, "not a Case Manager"),
        ({"case_manager": "sam"}, "not a Case Manager"),
    ],
)
def test_it_refuses_a_bad_case_and_writes_nothing(org, overrides, words):
    for key in ("arbitrator", "case_manager"):
        if isinstance(overrides.get(key), str):
            overrides[key] = getattr(org, overrides[key])
    seq = last_seq()
    with pytest.raises(RuleViolation, match=words):
        case(org, **overrides)
    assert not ArbitrationCase.objects.exists()
    assert actions_since(seq) == []


def test_it_wants_the_case_manager_to_differ_from_the_arbitrator(org):
    # Someone holding both roles (the services would not make this; an import might).
    Membership.objects.create(team=org.teams[TeamKind.ARBITRATION], person=org.arne,
                              role=Role.CASE_MANAGER, start=today(),
                              authority=services.resolve_authority(org.decision))
    with pytest.raises(RuleViolation) as exc_info:
        case(org, case_manager=org.arne)
    assert "different person from the Arbitrator" in str(exc_info.value)
    assert "SP 9.1.4" in str(exc_info.value)
    filed = case(org)
    with pytest.raises(RuleViolation, match="different person"):
        arbitration.update_case(actor=org.arne, case=filed, status=CaseStatus.RUNNING,
                             arbitrator=org.arne, case_manager=org.arne)
    # The database holds the line too.
    filed.case_manager = org.arne
    with pytest.raises(IntegrityError), transaction.atomic():
        filed.save()


def test_it_refuses_cases_from_people_outside_arbitration(org):
    with pytest.raises(NotAllowed):
        arbitration.file_case(actor=org.bea, number=f"a{today():%Y%m%d}.1", title="x",
                           filed_on=today())


def test_it_records_a_ruling_by_the_cases_arbitrator(org):
    filed = case(org)
    seq = last_seq()
    arbitration.update_case(actor=org.arne, case=filed, status=CaseStatus.RULED,
                         arbitrator=org.arne, case_manager=org.cora, ruled_on=today(),
                         ruling_summary="Recommended to the Board.")
    filed.refresh_from_db()
    assert filed.status == CaseStatus.RULED
    assert filed.ruling_summary == "Recommended to the Board."
    assert actions_since(seq) == ["authority.case.rule"]
    event = Event.objects.get(seq=seq + 1)
    assert event.details["before"]["status"] == "running"
    assert event.details["after"]["status"] == "ruled"


def test_it_refuses_a_ruling_by_the_case_manager(org):
    filed = case(org)
    with pytest.raises(NotAllowed, match="Arbitrator records its ruling"):
        arbitration.update_case(actor=org.cora, case=filed, status=CaseStatus.RULED,
                             arbitrator=org.arne, case_manager=org.cora, ruled_on=today(),
                             ruling_summary="Cora rules.")
    filed.refresh_from_db()
    assert filed.status == CaseStatus.RUNNING


def test_it_refuses_a_ruling_by_another_arbitrator_who_takes_the_case_over(org):
    filed = case(org)
    ari = second_arbitrator(org)
    seq = last_seq()
    with pytest.raises(NotAllowed, match="Arbitrator records its ruling"):
        arbitration.update_case(actor=ari, case=filed, status=CaseStatus.RULED,
                             arbitrator=ari, case_manager=org.cora, ruled_on=today(),
                             ruling_summary="Ari rules on Arne's case.")
    filed.refresh_from_db()
    assert (filed.status, filed.arbitrator) == (CaseStatus.RUNNING, org.arne)
    assert actions_since(seq) == []
    # Reassigned first (recorded as such), the new Arbitrator rules.
    arbitration.update_case(actor=org.cora, case=filed, status=CaseStatus.RUNNING,
                         arbitrator=ari, case_manager=org.cora)
    arbitration.update_case(actor=ari, case=filed, status=CaseStatus.RULED, arbitrator=ari,
                         case_manager=org.cora, ruled_on=today(), ruling_summary="Ari rules.")
    assert actions_since(seq) == ["authority.case.update", "authority.case.rule"]


def test_it_refuses_a_ruling_on_an_unassigned_case(org):
    filed = case(org, arbitrator=None, case_manager=None)
    with pytest.raises(NotAllowed):
        arbitration.update_case(actor=org.arne, case=filed, status=CaseStatus.RULED,
                             arbitrator=org.arne, case_manager=org.cora, ruled_on=today(),
                             ruling_summary="Arne rules at once.")


@pytest.mark.parametrize(
    ("status", "ruled_on", "summary", "words"),
    [
        (CaseStatus.RULED, None, "x", "date and a summary"),
        (CaseStatus.RULED, "today", " ", "date and a summary"),
        (CaseStatus.RULED, "tomorrow", "x", "between filing and today"),
        (CaseStatus.RULED, "before", "x", "between filing and today"),
        (CaseStatus.RUNNING, "today", "x", "go with the status 'ruled'"),
        ("decided", None, "", "not a case status"),
    ],
)
def test_it_refuses_a_bad_ruling(org, status, ruled_on, summary, words):
    filed = case(org)
    dates = {None: None, "today": today(), "tomorrow": today() + dt.timedelta(days=1),
             "before": today() - dt.timedelta(days=1)}
    with pytest.raises(RuleViolation, match=words):
        arbitration.update_case(actor=org.arne, case=filed, status=status, arbitrator=org.arne,
                             case_manager=org.cora, ruled_on=dates[ruled_on],
                             ruling_summary=summary)
    filed.refresh_from_db()
    assert filed.status == CaseStatus.RUNNING


def rule(org, filed):
    arbitration.update_case(actor=org.arne, case=filed, status=CaseStatus.RULED,
                         arbitrator=org.arne, case_manager=org.cora, ruled_on=today(),
                         ruling_summary="Recommended to the Board.")


@pytest.mark.parametrize(("path", "refused", "words"), [
    ([CaseStatus.RULED], CaseStatus.RUNNING, "this case is ruled; it cannot become running: "
                                             "only a case that is filed can; "
                                             "possible now: close"),
    ([CaseStatus.RULED], CaseStatus.FILED, "this case is ruled; it cannot become filed"),
    ([CaseStatus.RULED, CaseStatus.CLOSED], CaseStatus.RUNNING,
     "this case is closed; it cannot become running: .*; it does not change any more"),
    ([CaseStatus.WITHDRAWN], CaseStatus.RUNNING,
     "this case is withdrawn; it cannot become running"),
    ([], CaseStatus.FILED, "this case is running; it cannot become filed"),
])
def test_a_ruling_stands_and_ended_cases_do_not_move(org, path, refused, words):
    filed = case(org)
    for status in path:
        if status == CaseStatus.RULED:
            rule(org, filed)
        else:
            arbitration.update_case(actor=org.cora, case=filed, status=status,
                                 arbitrator=org.arne, case_manager=org.cora)
    seq = last_seq()
    with pytest.raises(RuleViolation, match=words):
        arbitration.update_case(actor=org.arne, case=filed, status=refused,
                             arbitrator=org.arne, case_manager=org.cora)
    assert actions_since(seq) == []
    filed.refresh_from_db()
    assert filed.status == (path[-1] if path else CaseStatus.RUNNING)


def test_a_ruled_case_is_closed_with_its_ruling_kept(org):
    filed = case(org)
    rule(org, filed)
    with pytest.raises(RuleViolation, match="this case is ruled; it cannot become ruled"):
        rule(org, filed)  # no second ruling over the first
    arbitration.update_case(actor=org.cora, case=filed, status=CaseStatus.CLOSED,
                         arbitrator=org.arne, case_manager=org.cora)
    filed.refresh_from_db()
    assert filed.status == CaseStatus.CLOSED
    assert (filed.ruled_on, filed.ruling_summary) == (today(), "Recommended to the Board.")


def test_the_case_page_offers_only_the_moves_left(client, org):
    filed = case(org)
    client.force_login(org.cora.user)
    page = client.get(filed.get_absolute_url()).content.decode()
    # The Case Manager moves the case on, but only its Arbitrator is offered the ruling.
    assert 'value="withdrawn"' in page
    assert 'value="ruled"' not in page and 'id="id_ruling_summary"' not in page
    client.force_login(org.arne.user)
    page = client.get(filed.get_absolute_url()).content.decode()
    assert 'value="ruled"' in page and 'id="id_ruling_summary"' in page
    client.force_login(org.cora.user)
    rule(org, filed)
    page = client.get(filed.get_absolute_url()).content.decode()
    assert 'value="closed"' in page
    assert 'value="running"' not in page and 'id="id_ruling_summary"' not in page
    closed = client.post(filed.get_absolute_url(), {
        "status": "closed", "arbitrator": org.arne.pk, "case_manager": org.cora.pk})
    assert closed.status_code == 302
    filed.refresh_from_db()
    assert filed.status == CaseStatus.CLOSED and filed.ruling_summary
    page = client.get(filed.get_absolute_url()).content.decode()
    assert "A closed case does not change any more." in page and "<select" not in page
