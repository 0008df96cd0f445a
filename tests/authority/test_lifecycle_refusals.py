"""Arbitration cases and sign-off requests move only along their lifecycle tables
(authority.lifecycles): a move the table lacks is refused and writes no entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from secman.authority import arbitration, services
from secman.authority.choices import CaseStatus, SignOffStatus
from secman.authority.lifecycles import CASE, SIGNOFF
from secman.authority.models import ArbitrationCase, SignOff, SignOffRequest
from secman.authority.signoff import TASK, dual_control
from secman.core.errors import RuleViolation
from secman.core.roles import Role
from secman.eventlog.models import Event

pytestmark = pytest.mark.django_db


def case_in(org, status: str) -> ArbitrationCase:
    case = arbitration.file_case(actor=org.cora, number=f"a{timezone.localdate():%Y%m%d}.7",
                              title="ABC of Nina", filed_on=timezone.localdate(),
                              arbitrator=org.arne, case_manager=org.cora)
    ArbitrationCase.objects.filter(pk=case.pk).update(status=status)
    return ArbitrationCase.objects.get(pk=case.pk)


@pytest.mark.parametrize(("status", "to"), [
    (CaseStatus.WITHDRAWN, CaseStatus.RULED),  # a withdrawn case is not ruled on
    (CaseStatus.RULED, CaseStatus.WITHDRAWN),  # a ruling stands
    (CaseStatus.CLOSED, CaseStatus.CLOSED),    # not even reassigned
    (CaseStatus.RUNNING, CaseStatus.CLOSED),   # closed only once ruled
])
def test_a_case_refuses_a_move_its_table_lacks_and_writes_nothing(org, status, to):
    case = case_in(org, status)
    assert not CASE.allowed(status, to)
    before = Event.objects.count()
    ruling = {"ruled_on": timezone.localdate(), "ruling_summary": "x"} if to == "ruled" else {}
    with pytest.raises(RuleViolation) as refused:
        arbitration.update_case(actor=org.arne, case=case, status=to, arbitrator=org.arne,
                             case_manager=org.cora, **ruling)
    assert refused.value.message.startswith(f"this case is {CASE.label(status)}; it cannot "
                                            f"become {CASE.label(to)}")
    assert (refused.value.section, refused.value.field) == ("SP 9.1.4", "status")
    assert ArbitrationCase.objects.get(pk=case.pk).status == status
    assert Event.objects.count() == before


def open_request(org) -> SignOffRequest:
    return services.request_signoff(
        actor=org.sam, action=TASK, title="Replace the disk", authority="SM 2.2.3",
        requirement=dual_control(Role.SYSTEMS_ADMINISTRATOR), expires_in=dt.timedelta(days=1))


@pytest.mark.parametrize(("status", "move"), [
    (SignOffStatus.COMPLETE, "withdraw"),
    (SignOffStatus.WITHDRAWN, "withdraw"),
    (SignOffStatus.COMPLETE, "sign"),
    (SignOffStatus.WITHDRAWN, "sign"),
])
def test_a_signoff_request_refuses_a_move_its_table_lacks_and_writes_nothing(org, status,
                                                                             move):
    request = open_request(org)
    SignOffRequest.objects.filter(pk=request.pk).update(status=status)
    assert not any(t.name == move for t in SIGNOFF.moves_from(status))
    before, signatures = Event.objects.count(), SignOff.objects.count()
    with pytest.raises(RuleViolation, match=f"this request is {status};") as refused:
        if move == "sign":
            services.sign(actor=org.sue, request=request)
        else:
            services.withdraw_signoff(actor=org.sam, request=request, reason="not needed")
    assert refused.value.message.endswith("it does not change any more")
    assert SignOffRequest.objects.get(pk=request.pk).status == status
    assert (Event.objects.count(), SignOff.objects.count()) == (before, signatures)


def test_the_signoff_page_offers_withdrawal_only_while_the_table_allows_it(client, org):
    request = open_request(org)
    client.force_login(org.sam.user)
    withdraw = f"/authority/signoffs/{request.pk}/withdraw/"
    assert withdraw in client.get(request.get_absolute_url()).content.decode()
    services.withdraw_signoff(actor=org.sam, request=request, reason="not needed")
    assert withdraw not in client.get(request.get_absolute_url()).content.decode()
