"""Showing stored text as it is: `{% load text %}`, then `{{ value|controls_shown }}`.

Input is refused when it holds control characters (core.validation), but the Event Log
keeps entries written before that, and they can never be rewritten. This filter shows
each control character, text-direction control and line separator as a visible code
(⟨U+202E⟩) instead of letting it act: a right-to-left override cannot make "gnp.exe" read
"exe.png", and an escape sequence cannot colour the page."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from secman.core.validation import BIDI_CONTROLS, LINE_SEPARATORS

register = template.Library()

# Also shown: the bidi marks, which change the order of what is around them.
_MARKS = frozenset("\u200e\u200f\u061c")


def _shown(char: str) -> bool:
    code = ord(char)
    return (code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF
            or char in BIDI_CONTROLS or char in LINE_SEPARATORS or char in _MARKS)


@register.filter(is_safe=True)
def controls_shown(value: object) -> SafeString:
    """The text escaped for HTML, each control character as a marked code."""
    text = str(value)
    if text.isprintable():
        return conditional_escape(text)
    parts = []
    for char in text:
        if _shown(char):
            parts.append(f'<span class="control" title="a control character, shown as its '
                         f'code">U+{ord(char):04X}</span>')
        else:
            parts.append(str(conditional_escape(char)))
    return mark_safe("".join(parts))  # noqa: S308 (every part escaped or made here)
