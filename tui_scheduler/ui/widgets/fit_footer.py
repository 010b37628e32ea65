"""A footer that shows whole keys only: narrower, it drops whole entries, never half a word.

Textual's Footer lays its keys out in one row and cuts the row at the screen's edge, so
at 80 columns the job detail footer ended in "esc Bac". This one, when the keys do not
fit, first packs them tighter (Footer's compact style) and hides the command-palette
hint (ctrl+p still works; help lists it), then leaves out whole entries from the end,
always keeping "? Help", which lists every key.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTIONS = ("help", "app.help")  # the app's "?" as a screen's footer lists it
# A FooterKey is " key " + "description " (normal) or "key" + " description" and a
# margin of one (compact).
_NORMAL_EXTRA = 3
_COMPACT_EXTRA = 2


def _text_width(key: FooterKey) -> int:
    return len(key.key_display) + len(key.description)


class FitFooter(Footer):
    """Footer whose keys are each shown whole or not at all."""

    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        width = self.size.width
        if not width:
            return
        keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
        palette = [key for key in self.query(FooterKey) if key.has_class("-command-palette")]
        palette_width = sum(_text_width(key) + _NORMAL_EXTRA + 1 for key in palette)
        normal = sum(_text_width(key) + _NORMAL_EXTRA for key in keys)
        tight = normal + palette_width > width
        self.compact = tight
        for key in palette:
            key.display = not tight
        extra = _COMPACT_EXTRA if tight else _NORMAL_EXTRA
        helps = [key for key in keys if key.action in HELP_ACTIONS]
        budget = width - sum(_text_width(key) + extra for key in helps)
        for key in keys:
            if key in helps:
                key.display = True
                continue
            need = _text_width(key) + extra
            key.display = need <= budget
            # Entries keep their order: once one is left out, so is every later one.
            budget = budget - need if key.display else -1
