"""SP 1.2 "every action is authorised by either a policy or by the Arbitrator": reading the
references that name the authority. Free text is not an authority."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from secman.core.authorities import ACCEPTED, AuthorityKind, Reference, parse_reference
from secman.core.errors import RuleViolation


@pytest.mark.parametrize(
    ("raw", "text", "document", "section"),
    [
        ("SP 3.4.2", "SP 3.4.2", "SP", "3.4.2"),
        ("sp 3.4.2", "SP 3.4.2", "SP", "3.4.2"),
        ("  SM 2.2.3.3  ", "SM 2.2.3.3", "SM", "2.2.3.3"),
        ("SP3.4.2", "SP 3.4.2", "SP", "3.4.2"),
        ("SP §9.1.5", "SP 9.1.5", "SP", "9.1.5"),
        ("SM § 4.2.1.", "SM 4.2.1", "SM", "4.2.1"),
        ("SP 10", "SP 10", "SP", "10"),
        ("SP 10.1", "SP 10.1", "SP", "10.1"),
        ("SP\u00a03.4.2", "SP 3.4.2", "SP", "3.4.2"),  # a non-breaking space pasted from HTML
    ],
)
def test_it_reads_and_normalises_sections(raw, text, document, section):
    assert parse_reference(raw) == Reference(AuthorityKind.SECTION, text, document, section)


@pytest.mark.parametrize(
    ("raw", "kind", "text"),
    [
        ("a20090525.1", AuthorityKind.ARBITRATION, "a20090525.1"),
        ("A20090525.12", AuthorityKind.ARBITRATION, "a20090525.12"),
        (" a20240229.3 ", AuthorityKind.ARBITRATION, "a20240229.3"),
        ("m20100222.1", AuthorityKind.BOARD_DECISION, "m20100222.1"),
        ("M20100222.104", AuthorityKind.BOARD_DECISION, "m20100222.104"),
    ],
)
def test_it_reads_case_numbers_and_minute_ids(raw, kind, text):
    assert parse_reference(raw) == Reference(kind, text)


@pytest.mark.parametrize(
    "raw",
    ["the Board said so", "because", "SP", "SP 0", "SP 3.0.1", "SP 3..4", "SP 3.4.2 and SM 1",
     "XP 3.4.2", "3.4.2", "a2009052.1", "a20090525", "a20090525.0", "m20100222.1234",
     "m20100222-1", "https://example.org/m20100222.1", "SP 1.2.3.4.5.6.7"],
)
def test_it_refuses_free_text_naming_what_is_accepted(raw):
    with pytest.raises(RuleViolation) as exc_info:
        parse_reference(raw)
    assert ACCEPTED in str(exc_info.value)
    assert "free text is not an authority" in str(exc_info.value)
    assert exc_info.value.section == "SP 1.2"


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_it_requires_an_authority(raw):
    with pytest.raises(RuleViolation, match="an authority is required"):
        parse_reference(raw)


@pytest.mark.parametrize("raw", ["m20100230.1", "a20091325.1", "m20230229.1", "a00000000.1"])
def test_it_refuses_an_identifier_with_an_impossible_date(raw):
    with pytest.raises(RuleViolation, match="real date"):
        parse_reference(raw)


def test_it_shortens_very_long_free_text_in_the_message():
    with pytest.raises(RuleViolation) as exc_info:
        parse_reference("x" * 500)
    assert "x" * 57 + "..." in str(exc_info.value)
    assert "x" * 58 not in str(exc_info.value)


@pytest.mark.parametrize(
    "raw",
    [
        "SP \uff13.\uff14.\uff12",  # full-width digits
        "SP \u0663.\u0664.\u0662",  # Arabic-Indic digits
        "a\uff12\uff10\uff10\uff19\uff10\uff15\uff12\uff15.1",
        "m2010\u0660222.1",
        "SP 1\u0663",
        "SP 3.1\uff14",  # not SP 3.14
        "a2009052\u0665.1",
        "m20100222.1\u0661",
    ],
)
def test_it_refuses_look_alike_characters(raw):
    # Full-width or Arabic-Indic digits are not another spelling of SP 3.4.2: accepted,
    # they would become a second authority record for the same section.
    with pytest.raises(RuleViolation):
        parse_reference(raw)


SECTIONISH = st.builds(
    lambda doc, sep, parts, dot: f"{doc}{sep}{'.'.join(parts)}{dot}",
    st.sampled_from(["SP", "SM", "sp", "Sm", "XP", "S P"]),
    st.sampled_from(["", " ", "  ", "§", " § ", "\t", "\n", "\u00a0"]),
    st.lists(st.text(alphabet="0123456789\uff10\u0663", min_size=0, max_size=3), min_size=1,
             max_size=8),
    st.sampled_from(["", ".", "..", "\n", " x"]),
)
IDENTIFIERISH = st.builds(
    lambda letter, date, n, tail: f"{letter}{date}.{n}{tail}",
    st.sampled_from(["a", "A", "m", "M", "b", "\u0430"]),  # last: Cyrillic a
    st.one_of(st.dates().map(lambda d: f"{d:%Y%m%d}"),
              st.text(alphabet="0123456789\u0660", min_size=6, max_size=10)),
    st.integers(min_value=-5, max_value=2000),
    st.sampled_from(["", "\n", " ", ".1", "x"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), SECTIONISH, IDENTIFIERISH))
@example("SP 3.4.2\n")
@example("a20090525.1\n")
@example("SP 3.4.2\x00")
@example("SP 3.1\u0664")
def test_it_either_returns_a_reference_that_reads_back_the_same_or_refuses(raw):
    try:
        reference = parse_reference(raw)
    except RuleViolation as exc:
        assert exc.section == "SP 1.2"
        return
    assert reference.text.isascii()
    assert reference.text == reference.text.strip()
    assert parse_reference(reference.text) == reference
    if reference.kind == AuthorityKind.SECTION:
        assert reference.text == f"{reference.document} {reference.section}"
