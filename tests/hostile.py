"""Hostile text for the display tests: what an attacker's job prints or stores, and the
visible stand-in ``safe_text`` must show instead.

One entry per kind of terminal control the issue names: 7-bit ESC sequences (OSC 52
clipboard, OSC 0 title, CSI 2J, DCS, APC, PM, SOS), 8-bit C1 controls, bidi overrides.
"""

from __future__ import annotations

import re

from tui_scheduler.core.safe_text import BIDI_CONTROLS

# name -> (hostile text, what the terminal must show instead)
CORPUS: dict[str, tuple[str, str]] = {
    "osc52": ("\x1b]52;c;UFJPR1JFU1M=\x1b\\", "^[]52;c;UFJPR1JFU1M=^[\\"),
    "osc0": ("\x1b]0;pwned\x07", "^[]0;pwned^G"),
    "csi2j": ("\x1b[2J", "^[[2J"),
    "dcs": ("\x1bP1$qm\x1b\\", "^[P1$qm^[\\"),
    "apc": ("\x1b_Gx\x1b\\", "^[_Gx^[\\"),
    "pm": ("\x1b^pm\x1b\\", "^[^pm^[\\"),
    "sos": ("\x1bXsos\x1b\\", "^[Xsos^[\\"),
    "c1csi": ("\x9b2J", "\\x9b2J"),
    "c1osc": ("\x9d0;t\x9c", "\\x9d0;t\\x9c"),
    "rlo": ("\u202eevil", "<U+202E>evil"),
    "isolate": ("\u2066iso\u2069", "<U+2066>iso<U+2069>"),
}


def hostile(name: str) -> str:
    return CORPUS[name][0]


def shown(name: str) -> str:
    return CORPUS[name][1]


# Any character a terminal could act on, except newline (layout between lines).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f"
                         + "".join(chr(code) for code in BIDI_CONTROLS) + "]")


def raw_controls(text: str) -> list[str]:
    """The control characters in ``text`` (none in text that is safe to show)."""
    return sorted({repr(match) for match in RAW_CONTROL.findall(text)})
