"""Form pieces shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts

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


class PasswordChangeForm(forms.Form):
    """Field checks only; the service checks the current password and the validators."""

    old_password = forms.CharField(
        label="Current password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password1 = forms.CharField(
        label="New password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(
        label="New password again", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(password_validators_help_texts())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two new passwords differ.")
        return data
