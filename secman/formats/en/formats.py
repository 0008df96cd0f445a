"""Django format module for en and en-gb (FORMAT_MODULE_PATH = ["secman.formats"])."""

from __future__ import annotations

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
# Input formats are left to Django's en-gb ones, which accept the ISO forms.
FIRST_DAY_OF_WEEK = 1  # Monday (ISO 8601)
