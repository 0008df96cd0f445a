"""Form pieces shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms

AUTHORITY_HELP = (
    "What authorises this: a section (SP 3.4.2, SM 2.2.3), an Arbitration case "
    "(a20090525.1) or a Board decision (m20100222.1). Free text is not an authority."
)


class AuthorityField(forms.CharField):
    """Checked by the service, so the form and the API give the same answer."""

    def __init__(self, *, initial: str = "", **kwargs: Any) -> None:
        super().__init__(max_length=40, initial=initial, help_text=AUTHORITY_HELP, **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"
