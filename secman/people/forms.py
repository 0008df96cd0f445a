from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from secman.core.authorities import citable_decisions
from secman.core.forms import AuthorityField, DateInput
from secman.core.roles import TEAM_ROLES, Role
from secman.core.validation import max_length
from secman.people.choices import ChangeKind
from secman.people.models import Membership, Person, Team


class PersonForm(forms.Form):
    name = forms.CharField(max_length=max_length(Person, "name"))
    email = forms.EmailField()
    member_number = forms.CharField(max_length=max_length(Person, "member_number"), required=False)
    phone = forms.CharField(max_length=max_length(Person, "phone"), required=False,
                            help_text="Key Persons List: seen only by the Board, the "
                            "Arbitrator and the person.")
    chat_handle = forms.CharField(max_length=max_length(Person, "chat_handle"), required=False)
    emergency_contact = forms.CharField(widget=forms.Textarea, required=False)
    authority = AuthorityField(initial="SP 9.1.3")


class NewPersonForm(PersonForm):
    username = forms.CharField(max_length=max_length(get_user_model(), "username"),
                               required=False, label="Login name",
                               help_text="Leave empty for a person without a login.")
    password = forms.CharField(widget=forms.PasswordInput, required=False,
                               help_text="At least 12 characters; not a common password.")


class ContactDetailsForm(forms.Form):
    """What a person may change about themself."""

    phone = forms.CharField(max_length=max_length(Person, "phone"), required=False)
    chat_handle = forms.CharField(max_length=max_length(Person, "chat_handle"), required=False)
    emergency_contact = forms.CharField(widget=forms.Textarea, required=False)
    authority = AuthorityField(initial="SP 9.1.4.3")


class OpenPGPKeyForm(forms.Form):
    openpgp_key = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "class": "code"}), required=False,
        max_length=max_length(Person, "openpgp_key"), label="OpenPGP public key",
        help_text="gpg --armor --export FINGERPRINT. The Key Persons List (SM 6.4) and "
        "sensitive incident reports (SM 4.4.3) are encrypted to it. Empty removes it.")


def without_contact_details(form: forms.Form) -> forms.Form:
    """The form without the Key Persons List fields, for whoever may not read them
    (people.selectors.can_see_contact_details): not shown, not pre-filled, not posted."""
    for name in Person.CONTACT_FIELDS:
        form.fields.pop(name, None)
    return form


class AddMemberForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.all())
    role = forms.ChoiceField(choices=[])
    is_leader = forms.BooleanField(required=False, label="Team leader")
    start = forms.DateField(required=False, widget=DateInput,
                            help_text="Empty means today.")
    authority = AuthorityField()

    def __init__(self, *args: Any, team_kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role = cast(forms.ChoiceField, self.fields["role"])
        role.choices = [(r.value, Role(r).label) for r in TEAM_ROLES[team_kind]]
        self.fields["authority"].help_text = (
            "A Board decision (m20100222.1) or an Arbitration case: SP 9.1.5, the Board "
            "authorises new individuals."
        )


class EndMembershipForm(forms.Form):
    membership = forms.ModelChoiceField(queryset=Membership.objects.none(),
                                        widget=forms.HiddenInput)
    reason = forms.CharField(max_length=200,
                             help_text="Resignation, Arbitration ruling, Board or team "
                             "leader decision (SP 9.1.7).")
    authority = AuthorityField(initial="SP 9.1.7")

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        membership = cast(forms.ModelChoiceField, self.fields["membership"])
        membership.queryset = Membership.objects.active().filter(team=team)


class AppointLeaderForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Person.objects.none(), label="New team leader")
    authority = AuthorityField()

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person = cast(forms.ModelChoiceField, self.fields["person"])
        person.queryset = Person.objects.filter(
            memberships__in=Membership.objects.active().filter(team=team, is_leader=False)
        ).distinct()


class ProposalForm(forms.Form):
    change = forms.ChoiceField(choices=ChangeKind.choices)
    person = forms.ModelChoiceField(queryset=Person.objects.all())
    reason = forms.CharField(widget=forms.Textarea,
                             help_text="What the Board reads when it decides.")
    authority = AuthorityField(initial="SP 3.4.2")


class DecideProposalForm(forms.Form):
    """The Board's decision on a list change, chosen from the confirmed decisions that
    can decide it (SP 3.4.2: changes are subject to Board approval): a carried one to
    approve; to reject, one carried to reject or a motion to approve that failed."""

    decision = forms.ChoiceField(label="Board decision")

    def __init__(self, *args: Any, verdict: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        approving = verdict == "approve"
        field = cast(forms.ChoiceField, self.fields["decision"])
        self.offered = citable_decisions(carried=approving)
        # No decision preselected: the Board member names the one that decided.
        field.choices = [("", "choose the decision"),
                         *((d.minute_id, f"{d.minute_id} {d.title}") for d in self.offered)]
        field.error_messages["required"] = "Choose the Board decision."
        field.error_messages["invalid_choice"] = (
            "%(value)s is not a confirmed" + (" and carried" if approving else "")
            + " Board decision: choose one from the list")
        field.help_text = (
            "Confirmed, carried decisions." if approving else
            "Confirmed decisions, carried or not: a decision to reject, or a motion to "
            "approve that failed.")
class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)
