"""A generated corpus of 500+ invalid or edge-case schedule expressions.

Each must give a one-line message naming the problem, never a traceback, both from the
core parser (which the editor uses) and from the CLI, and nothing stored may change.
"""

from __future__ import annotations

import itertools
import json

import pytest

from tui_scheduler.cli import main
from tui_scheduler.core.schedule import ScheduleError, parse_schedule

FIELDS = ["minute", "hour", "day-of-month", "month", "day-of-week"]
BAD_VALUES = {
    0: ["60", "99", "-1", "5-1", "*/0", "1-", "-5", ",", "1,,2", "a", "1/", "/5", "1-2-3",
        "５", "١", "1.5", "0x1", "*/*", "L", "?"],
    1: ["24", "25", "23-1", "*/0", "x", "1-24", "#", "", "2/0", "٣"],
    2: ["0", "32", "31-1", "L", "W", "15W", "*/0", "1-32", "monday", "3#2"],
    3: ["0", "13", "jan-foo", "foo", "12-1", "*/0", "1-13", "dec-jan", "januari", "٢"],
    4: ["8", "9", "sun-foo", "5-1", "*/0", "1#3", "7L", "funday", "1-8", "sat-sun"],
}


def corpus() -> list[str]:
    items: list[str] = []
    for index, values in BAD_VALUES.items():
        for value in values:
            if value == "":
                continue
            for base in ("* * * * *", "0 9 * * 1-5", "30 4 1 * *", "*/5 1-3 * jan mon"):
                fields = base.split()
                fields[index] = value
                text = " ".join(fields)
                items.append(text)
                items.append("0 " + text)  # the same with a leading seconds field
    # Wrong field counts.
    items += [" ".join(["*"] * count) for count in (1, 2, 3, 4, 7, 8, 12)]
    # Impossible dates.
    items += [f"0 0 {day} {month} *" for day, month in
              itertools.product((30, 31), ("2", "feb", "2,feb"))]
    items += [f"0 0 31 {m} *" for m in ("4", "6", "9", "11", "4,6", "apr,jun,sep,nov")]
    # Macros, intervals and one-offs gone wrong.
    items += ["@fortnightly", "@", "@daily extra", "@every 5m", "@ hourly", "@REBOOTX"]
    items += [f"every {x}" for x in ("0s", "0m", "-5m", "5 parsecs", "m", "", "1e9h",
                                     "5", "five minutes", "1000d", "0.5s", "NaNs", "infs")]
    items += [f"at {x}" for x in ("yesterday", "2026-02-30 10:00", "2026-13-01 00:00",
                                  "10:00", "2026-01-01 25:00", "", "soon", "0000-01-01 00:00")]
    # Junk and very long input.
    items += ["", "   ", "\t", "*", "cron", "☃ * * * *", "* * * * * * *", "\x00 * * * *",
              "1" * 300, "* " * 200, "0 0 * * * extra words here", "0 0 1-31/0 * *"]
    # Unicode digits in every position.
    for digit in ("٣", "５", "۳", "३"):
        for index in range(5):
            fields = ["*"] * 5
            fields[index] = digit
            items.append(" ".join(fields))
    # Reversed ranges and zero steps across all fields, with steps on ranges.
    for index, (lo, hi) in enumerate([(10, 5), (20, 3), (28, 2), (11, 2), (6, 1)]):
        for suffix in ("", "/2", "/0"):
            fields = ["*"] * 5
            fields[index] = f"{lo}-{hi}{suffix}"
            items.append(" ".join(fields))
            fields[index] = f"{hi}-{lo}/0"
            items.append(" ".join(fields))
    # Out-of-range single values in 6-field expressions (leading seconds).
    items += [f"{s} * * * * *" for s in ("60", "61", "-1", "*/0", "59-0", "a")]
    return list(dict.fromkeys(items))


CORPUS = corpus()


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 500, len(CORPUS)


@pytest.mark.parametrize("text", CORPUS)
def test_core_rejects_with_one_line(text):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    message = str(info.value)
    assert message and "\n" not in message and len(message) < 400
    assert "Traceback" not in message


def test_cli_rejects_every_expression_without_traceback(tmp_path, capsys):
    db = str(tmp_path / "x.db")
    assert main(["--db", db, "add", "keep", "--cron", "0 9 * * *", "--command", "true"]) == 0
    capsys.readouterr()
    for text in CORPUS:
        assert main(["--db", db, "cron", text]) == 2, text
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("tui-scheduler: "), (text, err)
        code = main(["--db", db, "edit", "keep", "--cron", text])
        assert code == 2, text
        capsys.readouterr()
    assert main(["--db", db, "show", "keep", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["schedule"] == "0 9 * * *"
