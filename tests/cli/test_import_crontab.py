"""`import-crontab` as a user runs it: real subprocesses, a real database file, real runs.

It keeps cron's meaning where it can (SHELL, CRON_TZ), says on stderr where it cannot
(MAILTO, @reboot), reads at most 1 MiB, and never echoes a file that is not a crontab.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

# A crontab parser that reads /dev/zero to the end must fail here, not take the machine.
MEMORY_CAP = 1 << 30


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def cli(db, *args, stdin=None, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "tui_scheduler", "--db", db, *args],
                          capture_output=True, text=True, input=stdin, timeout=timeout,
                          check=False, env={**os.environ, **(env or {})}, preexec_fn=_capped)


def jobs_in(db) -> dict[str, dict]:
    result = cli(db, "list", "--json")
    assert result.returncode == 0, result.stderr
    return {job["name"]: job for job in json.loads(result.stdout)}


def one_line_refusal(result) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "jobs.db")


def test_dev_zero_is_refused_at_once_without_reading_it_all(db):
    line = one_line_refusal(cli(db, "import-crontab", "/dev/zero", timeout=30))
    assert "/dev/zero" in line and "1 MiB" in line
    assert not os.path.exists(db)  # refused before a database was made


def test_a_huge_file_or_stream_is_refused(db, tmp_path):
    huge = tmp_path / "huge"
    huge.write_text("* * * * * echo hi\n" * 70_000)  # 1.2 MiB of valid lines
    assert "1 MiB" in one_line_refusal(cli(db, "import-crontab", str(huge)))
    line = one_line_refusal(cli(db, "import-crontab", "-", stdin=huge.read_text()))
    assert "standard input" in line and "1 MiB" in line
    assert not os.path.exists(db)  # refused before a database was made


SHADOW = ("root:$6$Zq1saltXY$hAsHhAsH0123456789abcdefSECRETroot/xyz.:19700:0:99999:7:::\n"
          "daemon:*:19700:0:99999:7:::\n"
          "alice:$y$j9T$aliceSALT$aliceHASHsecretvalue1234567890:19701:0:99999:7:::\n"
          "bob:!:19702:0:99999:7:::\n")


def test_a_shadow_file_is_refused_without_echoing_it(db, tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW)
    line = one_line_refusal(cli(db, "import-crontab", str(shadow)))
    assert "does not look like a crontab" in line
    for secret in ("$6$", "SECRET", "hAsH", "alice", "root:", "$y$"):
        assert secret not in line
    assert not os.path.exists(db)  # refused before a database was made


def test_binary_input_is_refused_without_echoing_it(db, tmp_path):
    blob = tmp_path / "blob"
    blob.write_bytes(b"* * * * * echo hi\n* * * * * echo hi\x00\n\x00\x01 secret\n")
    line = one_line_refusal(cli(db, "import-crontab", str(blob)))
    assert "binary" in line and "secret" not in line
    assert not os.path.exists(db)  # refused before a database was made


def test_unreadable_lines_are_reported_by_number_and_reason_only(db, tmp_path):
    crontab = tmp_path / "crontab"
    crontab.write_text("0 3 * * * backup --full\n"
                       "@hourly echo ping\n"
                       "password hunter2-secret\n"
                       "0 99 * * * echo token-abc123\n")
    result = cli(db, "import-crontab", str(crontab))
    assert result.returncode == 1
    assert "line 3: expected 5 time fields" in result.stderr
    assert "line 4: the hour field is not valid cron" in result.stderr
    assert "hunter2" not in result.stderr and "token-abc123" not in result.stderr
    assert "99" not in result.stderr
    assert set(jobs_in(db)) == {"crontab-1-backup", "crontab-2-echo"}


def test_shell_line_runs_the_jobs_after_it_with_that_shell(db, tmp_path):
    crontab = tmp_path / "crontab"
    crontab.write_text(
        "@daily echo \"before:${BASH_VERSION:-none}\"\n"
        "SHELL=/bin/bash\n"
        "@daily echo \"after:${BASH_VERSION:-none}\"; [[ abc == a* ]] && echo bash-only-syntax\n")
    result = cli(db, "import-crontab", str(crontab))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # SHELL is honoured: nothing to warn about
    # The CLI's own login shell must not leak into a job that did not ask for it.
    before = cli(db, "run", "crontab-1-echo", "--wait", env={"SHELL": "/bin/bash"})
    assert before.returncode == 0, before.stderr
    assert before.stdout.splitlines() == ["before:none"]
    after = cli(db, "run", "crontab-3-echo", "--wait")
    assert after.returncode == 0, after.stderr
    lines = after.stdout.splitlines()
    assert lines[0].startswith("after:") and lines[0] != "after:none"
    assert lines[1] == "bash-only-syntax"


def test_lines_whose_meaning_changes_are_listed_as_warnings(db, tmp_path):
    crontab = tmp_path / "crontab"
    crontab.write_text("# header\n"
                       "MAILTO=ops@example.com\n"
                       "CRON_TZ=Asia/Tokyo\n"
                       "0 9 * * * date\n"
                       "@reboot echo booted\n"
                       "MAILTO=\"\"\n"
                       "RANDOM_DELAY=10\n"
                       "@hourly echo quiet\n")
    result = cli(db, "import-crontab", str(crontab))
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 3, warnings
    assert warnings[0].startswith("warning: line 2: MAILTO") and "no mail is sent" in warnings[0]
    assert warnings[1].startswith("warning: line 5: @reboot runs when a tui-scheduler engine")
    assert warnings[2].startswith("warning: line 7: RANDOM_DELAY is not supported")
    jobs = jobs_in(db)
    assert jobs["crontab-4-date"]["timezone"] == "Asia/Tokyo"
    assert jobs["crontab-4-date"]["env"]["MAILTO"] == "ops@example.com"
    assert jobs["crontab-8-echo"]["env"]["MAILTO"] == ""


def test_a_missing_shell_is_warned_about(db, tmp_path):
    crontab = tmp_path / "crontab"
    crontab.write_text("SHELL=/nonexistent/zsh\n@daily echo hi\n")
    result = cli(db, "import-crontab", str(crontab))
    assert result.returncode == 0
    assert result.stderr.strip() == ("warning: line 1: SHELL is not an executable file here; "
                                     "the jobs after it fail to start until it is")
    run = cli(db, "run", "crontab-2-echo", "--wait")
    assert run.returncode != 0 and "could not start" in run.stderr
