"""The one sanitiser for text on its way to a terminal.

Everything a job produces (output, progress messages, errors) and every stored text a
user typed (names, descriptions, tags, params, env) is untrusted: an ESC or C1 byte in
it can write the clipboard (OSC 52), set the window title or clear the screen, and a
bidi override can make a line read differently from what it is. ``safe_text`` turns each
such character into a visible stand-in, the way ``less`` and ``journalctl`` show them,
so nothing is dropped silently and nothing reaches the terminal as a control:

- C0 controls and DEL in caret notation: ESC -> ``^[``, BEL -> ``^G``, DEL -> ``^?``;
- C1 controls (U+0080-U+009F) as ``\\x9b``;
- bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) as ``<U+202E>``.

Newline and tab are layout, not control, and are kept unless ``one_line`` is set (then
they are shown as ``^J`` / ``^I`` too, for fields that must stay on one row).
Pure: no I/O, no Textual, so the CLI, the console and the engine's log lines share it.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _visible(code: int) -> str:
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"<U+{code:04X}>"


def _table(keep: str) -> dict[int, str]:
    codes = [*range(0x20), 0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS]
    return {code: _visible(code) for code in codes if chr(code) not in keep}


_MULTI_LINE = _table("\n\t")
_ONE_LINE = _table("")
# A quick test first: almost every line is clean, and translate copies the string.
_UNSAFE_MULTI = re.compile("[" + "".join(re.escape(chr(c)) for c in _MULTI_LINE) + "]")
_UNSAFE_ONE = re.compile("[" + "".join(re.escape(chr(c)) for c in _ONE_LINE) + "]")


def safe_text(text: object, *, one_line: bool = False) -> str:
    """``text`` with every terminal control character made visible (see the module doc).

    Not a str (None, a number) is formatted with ``str`` first, so callers can pass
    database values as they come.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if one_line:
        return text.translate(_ONE_LINE) if _UNSAFE_ONE.search(text) else text
    return text.translate(_MULTI_LINE) if _UNSAFE_MULTI.search(text) else text


def is_safe(text: str, *, one_line: bool = False) -> bool:
    """True when ``safe_text`` would return ``text`` unchanged."""
    return not (_UNSAFE_ONE if one_line else _UNSAFE_MULTI).search(text)
