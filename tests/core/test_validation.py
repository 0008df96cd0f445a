"""Limits are declared once, in the models: services refuse what breaks a field's length
or a unique field or constraint with the model's numbers, and forms offer the same
lengths."""

from __future__ import annotations

import pytest

from secman.core.errors import RuleViolation
from secman.core.validation import Refusal, check_lengths, check_text, check_unique, with_changes
from secman.documents.forms import ImportForm
from secman.documents.models import Version
from secman.people import services as people_services
from secman.people.forms import PersonForm
from secman.people.models import Person
from secman.physical import services as physical_services
from secman.physical.forms import ComputerForm
from secman.physical.models import Computer


def limit(model, name):
    return model._meta.get_field(name).max_length


def test_a_length_is_refused_with_the_models_limit(db):
    most = limit(Person, "chat_handle")
    check_lengths(Person, {"chat_handle": "x" * most})
    with pytest.raises(RuleViolation) as refused:
        check_lengths(Person, {"chat_handle": "x" * (most + 1)})
    assert refused.value.message == (f"chat handle is longer than {most} characters "
                                     f"({most + 1} given)")
    assert refused.value.field == "chat_handle"


def test_free_text_has_its_maximum_in_the_model_too(db):
    most = limit(Person, "emergency_contact")
    check_text(Person, {"emergency_contact": "x" * most})
    with pytest.raises(RuleViolation) as refused:
        check_text(Person, {"emergency_contact": "x" * (most + 1)})
    assert refused.value.message == (f"emergency contact is longer than {most} characters "
                                     f"({most + 1} given)")
    assert refused.value.field == "emergency_contact"


def test_the_services_take_their_limits_from_the_models(org):
    name = "N" * (limit(Person, "name") + 1)
    with pytest.raises(RuleViolation, match=f"name is longer than {limit(Person, 'name')}"):
        people_services.update_person(actor=org.bea, person=org.sue, authority="SP 9.1.3",
                                      name=name)
    tag = "T" * (limit(Computer, "asset_tag") + 1)
    with pytest.raises(RuleViolation, match=f"asset tag is longer than "
                                            f"{limit(Computer, 'asset_tag')}"):
        physical_services.create_computer(actor=org.sam, authority="SP 2.2.1", asset_tag=tag)
    assert not Computer.objects.exists()


def test_the_forms_offer_the_models_lengths(db):
    assert PersonForm().fields["member_number"].max_length == limit(Person, "member_number")
    assert ComputerForm().fields["intended_use"].max_length == limit(Computer, "intended_use")
    assert ImportForm().fields["label"].max_length == limit(Version, "label")


def test_a_record_does_not_clash_with_itself(org):
    check_unique(with_changes(org.sue, {"name": "Susan"}))
    with pytest.raises(RuleViolation) as refused:
        check_unique(with_changes(org.sue, {"email": org.sam.email}))
    assert refused.value.field == "email"
    assert "already exists" in refused.value.message  # Django's words, when none are given


def test_a_conditional_unique_constraint_holds_only_where_its_condition_does(org):
    people_services.update_person(actor=org.bea, person=org.sue, authority="SP 9.1.3",
                                  member_number="M-1")
    # Empty member numbers are not unique (the constraint's condition).
    check_unique(Person(name="New", email="new@example.org", member_number=""))
    with pytest.raises(RuleViolation) as refused:
        check_unique(Person(name="New", email="new@example.org", member_number="M-1"),
                     {"person_member_number_unique": Refusal("{member_number} is {name}'s",
                                                             section="SP 9.1")})
    assert (refused.value.message, refused.value.section, refused.value.field) == (
        "M-1 is New's", "SP 9.1", "member_number")


def test_a_change_of_serial_alone_is_checked_with_the_vendor_it_keeps(org):
    kept = physical_services.create_computer(actor=org.sam, authority="SP 2.2.1",
                                             asset_tag="CA-1", vendor="Acme",
                                             serial_number="SN-1")
    other = physical_services.create_computer(actor=org.sam, authority="SP 2.2.1",
                                              asset_tag="CA-2", vendor="Acme",
                                              serial_number="SN-2")
    other_vendor = physical_services.create_computer(actor=org.sam, authority="SP 2.2.1",
                                                     asset_tag="CA-3", vendor="Bolt",
                                                     serial_number="SN-3")
    with pytest.raises(RuleViolation) as refused:
        physical_services.update_computer(actor=org.sam, computer=other,
                                          authority="SP 2.2.1", serial_number="SN-1")
    assert refused.value.message == "serial number SN-1 is already in the inventory"
    assert (refused.value.section, refused.value.field) == ("SM 2.2.1", "serial_number")
    # The same serial number from another vendor is another unit.
    physical_services.update_computer(actor=org.sam, computer=other_vendor,
                                      authority="SP 2.2.1", serial_number="SN-1")
    assert Computer.objects.filter(serial_number="SN-1").count() == 2
    assert kept.serial_number == "SN-1"
