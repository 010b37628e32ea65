"""The one sanitiser: every terminal control becomes visible, clean text is untouched."""

from __future__ import annotations

import pytest

from tui_scheduler.core.safe_text import is_safe, safe_text

HOSTILE = {
    "osc52": ("\x1b]52;c;UFJPR1JFU1M=\x1b\\", "^[]52;c;UFJPR1JFU1M=^[\\"),
    "title": ("\x1b]0;pwned\x07", "^[]0;pwned^G"),
    "clear": ("\x1b[2J\x1b[H", "^[[2J^[[H"),
    "c1 csi": ("\x9b2J", "\\x9b2J"),
    "c1 osc": ("\x9d0;t\x9c", "\\x9d0;t\\x9c"),
    "dcs apc pm sos": ("\x1bP1\x1b_2\x1b^3\x1bX4", "^[P1^[_2^[^3^[X4"),
    "bidi": ("a\u202eb\u2066c\u2069", "a<U+202E>b<U+2066>c<U+2069>"),
    "del nul cr": ("\x7f\x00\r", "^?^@^M"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_controls_become_visible(name):
    raw, shown = HOSTILE[name]
    assert safe_text(raw) == shown
    assert is_safe(safe_text(raw))
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in safe_text(raw))


def test_layout_kept_unless_one_line():
    assert safe_text("a\n\tb") == "a\n\tb"
    assert safe_text("a\n\tb", one_line=True) == "a^J^Ib"


def test_clean_text_and_non_strings():
    text = "backup ✔ 45% — naïve café 日本"
    assert safe_text(text) is text
    assert safe_text(None) == ""
    assert safe_text(12) == "12"
