"""Console under load: 2,000 jobs, 20 of them running and printing progress ten times a
second, the real console (``python -m tui_scheduler``) in a 120x40 pseudo-terminal.

Key-to-frame is the time from writing a key (``j``/``k``, 100-200 ms apart) to the pty
until the first bytes of the frame that shows its effect. The script plays the terminal:
it answers Textual's query for synchronized output, so every frame arrives wrapped in
``ESC[?2026h ... ESC[?2026l`` and where each frame starts is unambiguous; the answer to a
key is the first frame begun after it that draws the cursor's new row in the cursor's
colour (a progress frame that happens to follow the key does not count). Console CPU is
the console process's own user+system time (not its children, the jobs) over the key
window, divided by wall time. Baseline, in the same run: the same keys on an idle
console (40 jobs, none running; an empty database has no cursor to move).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

from common import ROOT, bulk_jobs, parse_args, percentile, report, temp_store

SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;1$y"  # "mode 2026 supported": frames come wrapped in sync marks
ROW_START = re.compile(rb"\x1b\[(\d+);1H(\x1b\[[0-9;]*m)")
BACKGROUND = re.compile(rb"48;[25];[0-9;]+m|4[0-7]m")

# One long-lived process per running job printing "NN%" ten times a second (a shell loop
# around `sleep` would fork 200 processes a second and measure the machine instead).
PROGRESS = ("import sys, time\n"
            "for i in range(100000):\n"
            "    print(f'{i % 100}%', flush=True)\n"
            "    time.sleep(0.1)\n")


def bench_env() -> dict[str, str]:
    """The console's environment: a real terminal type, and compiled bytecode kept in a
    cache outside the work tree (as an installed package has it)."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40",
           "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": "/tmp/tui-bench-pycache"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("TEXTUAL", "TEXTUAL_DRIVER", "NO_COLOR"):
        env.pop(name, None)
    return env


class Child:
    """The forked console process: its pid and exit status."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None if it still runs after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.returncode


class PtyConsole:
    """A process in a pseudo-terminal of a given size, its output drained by a thread
    that timestamps every read and cuts the stream into synchronized frames."""

    def __init__(self, argv: list[str], *, size: tuple[int, int] = (120, 40)) -> None:
        self.chunks: list[tuple[float, bytes]] = []
        """Every read from the terminal, with the monotonic time it arrived."""
        self.frames: list[tuple[float, bytes]] = []
        """Each complete synchronized frame: when its first bytes arrived, its bytes."""
        self._changed = threading.Condition()
        env = bench_env()
        self.started = time.monotonic()
        # pty.fork: the child gets the terminal as stdin/out/err and controlling tty.
        pid, self.master = pty.fork()
        if pid == 0:  # the child: size the terminal, then become the console
            try:
                fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
                os.chdir("/tmp")
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.proc = Child(pid)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        buffer, began = b"", None
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            now = time.monotonic()
            if data and SYNC_QUERY in buffer[-16:] + data:
                os.write(self.master, SYNC_REPLY)
            buffer += data
            with self._changed:
                if data:
                    self.chunks.append((now, data))
                while True:
                    if began is None:
                        at = buffer.find(SYNC_START)
                        if at < 0:
                            buffer = buffer[-16:]
                            break
                        buffer, began = buffer[at + len(SYNC_START):], now
                    end = buffer.find(SYNC_END)
                    if end < 0:
                        break
                    self.frames.append((began, buffer[:end]))
                    buffer, began = buffer[end + len(SYNC_END):], None
                self._changed.notify_all()
            if not data:
                return

    def output(self) -> bytes:
        return b"".join(data for _, data in self.chunks)

    def wait_until(self, test, timeout: float):
        """Wait for ``test()`` (called under the reader's lock) to return a value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = test()
                if value is not None:
                    return value
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    return None
                self._changed.wait(min(left, 0.2))

    def wait_for(self, needle: bytes, timeout: float) -> float | None:
        """Monotonic time of the read that completed ``needle`` (None on timeout)."""
        state = {"index": 0, "buffer": b""}

        def test() -> float | None:
            while state["index"] < len(self.chunks):
                when, data = self.chunks[state["index"]]
                state["buffer"] = state["buffer"][-len(needle):] + data
                state["index"] += 1
                if needle in state["buffer"]:
                    return when
            return None
        return self.wait_until(test, timeout)

    def press(self, key: bytes) -> float:
        sent = time.monotonic()
        os.write(self.master, key)
        return sent

    def frame_showing(self, sent: float, line: int, mark: bytes,
                      timeout: float = 2.0) -> float | None:
        """Seconds from ``sent`` to the start of the first frame begun after it that draws
        screen ``line`` starting with style ``mark`` (None on timeout)."""
        head = b"\x1b[%d;1H" % line

        def test() -> float | None:
            found = None
            for when, frame in reversed(self.frames):
                if when < sent:
                    break
                if (at := frame.find(head)) >= 0 and \
                        mark in frame[at + len(head):at + len(head) + 40]:
                    found = when - sent  # keep looking back for an earlier one
            return found
        return self.wait_until(test, timeout)

    def close(self, timeout: float = 30.0) -> int | None:
        if self.proc.poll() is None:
            os.write(self.master, b"q")
            if self.proc.wait(2) is None:  # with runs going, the console asks first
                os.write(self.master, b"y")
        code = self.proc.wait(timeout)
        if code is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait(10)
        self._reader.join(2)
        os.close(self.master)
        return code


def console_argv(db: str) -> list[str]:
    return [sys.executable, "-m", "tui_scheduler", "--db", db]


def make_db(total: int, running: int, script: str) -> tuple[str, list[int]]:
    """``total`` jobs; the first ``running`` (they sort first by name, so they are on
    screen) are manual command jobs printing progress."""
    store = temp_store()
    command = f"{sys.executable} -u {script}"
    if running:
        bulk_jobs(store, running, "a-busy-", schedule="manual", target=command)
    rest = total - running
    schedules = ["*/5 * * * *", "0 9 * * 1-5", "every 7m", "@daily", "30 2 * * *", "manual"]
    for index, schedule in enumerate(schedules):
        count = rest // len(schedules) + (1 if index < rest % len(schedules) else 0)
        bulk_jobs(store, count, f"job-{index}-", schedule=schedule, target="true")
    location = store.location
    from sqlmodel import select

    from tui_scheduler.store.models import Job

    with store.session() as session:
        ids = [job.id for job in session.exec(select(Job).where(
            Job.name.startswith("a-busy-")).order_by(Job.id)).all()]
    store.close()
    return location, ids


def start_runs(db: str, job_ids: list[int], timeout: float = 60.0) -> None:
    """Ask the console's engine to run each job, as ``tui-scheduler run`` does."""
    from tui_scheduler.engine.lock import live_holder
    from tui_scheduler.store.control import send_control
    from tui_scheduler.store.db import open_store

    store = open_store(db)
    deadline = time.monotonic() + timeout
    while live_holder(store) is None:
        if time.monotonic() > deadline:
            raise SystemExit("the console's engine never took the database")
        time.sleep(0.1)
    for job_id in job_ids:
        answer = send_control(store, "run", job_id=job_id, timeout=30)
        if not answer.startswith("run "):
            raise SystemExit(f"the engine refused run of job {job_id}: {answer}")
    store.close()


def row_lines(frame: bytes) -> dict[int, bytes]:
    """The screen lines a frame draws from column 1, each with its first style."""
    return {int(number): style for number, style in ROW_START.findall(frame)}


def learn_cursor(term: PtyConsole) -> tuple[int, bytes]:
    """Press ``j`` until a frame shows just the cursor move (two adjacent lines); returns
    the line the cursor is on now and its background, the mark the key frames look for."""
    for _ in range(10):
        sent = term.press(b"j")
        time.sleep(0.4)
        for when, frame in list(term.frames):
            lines = row_lines(frame)
            if when >= sent and len(lines) == 2 and max(lines) - min(lines) == 1:
                mark = BACKGROUND.search(lines[max(lines)])
                if mark:
                    return max(lines), mark.group(0)
        term.press(b"k")
        time.sleep(0.4)
    raise SystemExit("could not find the cursor in the console's output")


def measure_keys(term: PtyConsole, presses: int) -> list[float]:
    """Alternate k/j (the cursor moves between two adjacent rows), 100-200 ms apart, so
    keys never fall in step with the half-second tick."""
    import random

    rng = random.Random(5)
    lower, mark = learn_cursor(term)
    latencies = []
    for index in range(presses):
        key, line = (b"k", lower - 1) if index % 2 == 0 else (b"j", lower)
        sent = term.press(key)
        latency = term.frame_showing(sent, line, mark)
        latencies.append(latency if latency is not None else 2.0)
        time.sleep(rng.uniform(0.1, 0.2))
    return latencies


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def wait_loaded(term: PtyConsole, name: bytes, timeout: float = 60.0) -> None:
    if term.wait_for(name, timeout) is None:
        tail = term.output()[-600:].decode(errors="replace")
        raise SystemExit(f"the console never showed {name!r}; its last output: {tail!r}")


def run_console(db: str, presses: int, busy: list[int], first_name: bytes,
                settle: float) -> tuple[list[float], float]:
    """Open a console on ``db``, start ``busy`` jobs, then press keys; returns key
    latencies and the console's CPU share over the key window."""
    term = PtyConsole(console_argv(db))
    try:
        wait_loaded(term, first_name)
        if busy:
            start_runs(db, busy)
            wait_loaded(term, f"\u25b6 {len(busy)} running".encode())
        time.sleep(settle)
        cpu0, wall0 = cpu_seconds(term.proc.pid), time.monotonic()
        latencies = measure_keys(term, presses)
        cpu = (cpu_seconds(term.proc.pid) - cpu0) / (time.monotonic() - wall0)
    finally:
        code = term.close()
    if code != 0:
        raise SystemExit(f"the console exited with {code}")
    return latencies, cpu


def main() -> None:
    args = parse_args(__doc__)
    total, running, presses = (200, 5, 15) if args.quick else (2000, 20, 50)
    script = Path(temp_store().location).parent / "progress.py"
    script.write_text(PROGRESS)
    idle_db, _ = make_db(40, 0, str(script))
    base, base_cpu = run_console(idle_db, presses, [], b"job-0-0", settle=1.0)
    db, busy = make_db(total, running, str(script))
    lat, cpu = run_console(db, presses, busy, b"a-busy-0", settle=3.0)
    p50, p99 = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
    b50, b99 = percentile(base, 50) * 1000, percentile(base, 99) * 1000
    print(f"  {total} jobs, {running} running: key-to-frame p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
          f"console CPU {cpu * 100:.0f}% of a core (idle console, 40 jobs: p50 {b50:.1f} ms, "
          f"p99 {b99:.1f} ms, CPU {base_cpu * 100:.0f}%)")
    report(f"console key-to-frame p99 ({total} jobs, {running} running)", p99, "ms",
           baseline=b99, baseline_name="idle console (40 jobs) p99", target="< 50 ms",
           passed=p99 < 50, p50_ms=round(p50, 1), baseline_p50_ms=round(b50, 1),
           presses=presses)
    report(f"console CPU ({total} jobs, {running} running)", cpu * 100, "% of a core",
           baseline=base_cpu * 100, baseline_name="idle console (40 jobs) CPU",
           target="< 25% of a core", passed=cpu < 0.25)


if __name__ == "__main__":
    main()
