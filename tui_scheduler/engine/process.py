"""Running a command job: its own process group, line capture, stop and timeout.

Stopping sends SIGTERM to the whole group and to every descendant seen during the run
(psutil; this catches children that left the group with ``setsid``), then SIGKILL after
the job's grace period. Processes left behind when the main process exits are stopped
the same way, as systemd does for a service's control group.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import psutil

from tui_scheduler.core.progress import Progress, parse_progress_line
from tui_scheduler.engine.pump import PUMP

MAX_LINE = 64 * 1024
# After the main process exits, how long its output pipes may stay open (held by
# background children) before those children are stopped.
PIPE_LINGER_S = 2.0


@dataclass
class ProcessOutcome:
    exit_code: int | None
    signal_name: str | None
    stopped: bool
    timed_out: bool
    last_stderr: str = ""


class StopFlag(Protocol):
    """What a stop request's flag must do: a ``threading.Event`` or the engine's lighter
    set-once ``active.Flag`` (a burst creates one per fire)."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


@dataclass
class StopRequest:
    """Shared between the run's thread and whoever asks it to stop."""

    event: StopFlag = field(default_factory=threading.Event)
    kill_now: bool = False
    reason: str = "stopped"


def _split_lines(buffer: bytearray, emit: Callable[[bytes], None], final: bool) -> None:
    """Emit complete lines from buffer; a CR, LF or CRLF ends a line; overlong lines are cut."""
    start = 0
    length = len(buffer)
    while start < length:
        lf = buffer.find(b"\n", start)
        cr = buffer.find(b"\r", start)
        ends = [pos for pos in (lf, cr) if pos != -1]
        if not ends:
            break
        end = min(ends)
        if end - start > MAX_LINE:
            emit(bytes(buffer[start:start + MAX_LINE]))
            start += MAX_LINE
            continue
        emit(bytes(buffer[start:end]))
        if buffer[end:end + 1] == b"\r" and buffer[end + 1:end + 2] == b"\n":
            end += 1
        start = end + 1
    while length - start >= MAX_LINE:
        emit(bytes(buffer[start:start + MAX_LINE]))
        start += MAX_LINE
    if final and start < length:
        emit(bytes(buffer[start:]))
        start = length
    del buffer[:start]


class _ProcessTable:
    """Parent -> children of every process, shared by all runs and rebuilt at most once
    a second: reading /proc for each of 50 running jobs every second costs a core."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built = -1.0
        self._children: dict[int, list[int]] = {}

    def descendants(self, pid: int, *, fresh: bool = False) -> list[int]:
        with self._lock:
            now = time.monotonic()
            if fresh or now - self._built >= 1.0:
                children: dict[int, list[int]] = {}
                for proc in psutil.process_iter(["ppid"]):
                    children.setdefault(proc.info["ppid"], []).append(proc.pid)
                self._children, self._built = children, now
            table = self._children
        result: list[int] = []
        todo = [pid]
        while todo and len(result) < 10_000:
            current = todo.pop()
            result.append(current)
            todo.extend(table.get(current, ()))
        return result


PROCESS_TABLE = _ProcessTable()


def decode_line(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class CommandRunner:
    """Runs one shell command on the calling thread and reports lines and progress.

    The run's thread waits for the process (a pidfd) and keeps the clock for timeouts and
    grace periods; the shared output pump reads its pipes.
    """

    def __init__(self, command: str, *, env: dict[str, str], cwd: str | None,
                 on_lines: Callable[[str, list[str]], None],
                 on_progress: Callable[[Progress], None],
                 on_spawn: Callable[[int], None] = lambda pid: None,
                 shell: str = "/bin/sh"):
        self.command = command
        self.shell = shell
        """Runs the command as ``shell -c command``: /bin/sh unless the job sets SHELL."""
        self.env = env
        self.cwd = cwd
        self.on_lines = on_lines
        self.on_progress = on_progress
        self.on_spawn = on_spawn
        self._known: dict[int, float] = {}
        self._last_stderr = ""

    def _emit(self, stream: str, raws: list[bytes]) -> None:
        """Hand a batch of lines on; only the newest progress line of a batch is parsed,
        since older ones would be overwritten at once (all lines are still stored)."""
        lines = [decode_line(raw) for raw in raws]
        if stream == "err":
            for line in reversed(lines):
                if line.strip():
                    self._last_stderr = line[:300]
                    break
        else:
            for line in reversed(lines):
                if len(line) < 4096 and line.rstrip().endswith(("%", "}")):
                    progress = parse_progress_line(line)
                    if progress is not None:
                        self.on_progress(progress)
                        break
        self.on_lines(stream, lines)

    def _remember_descendants(self, pid: int, *, fresh: bool = False) -> None:
        for child in PROCESS_TABLE.descendants(pid, fresh=fresh):
            if child in self._known:
                continue
            try:
                self._known.setdefault(child, psutil.Process(child).create_time())
            except psutil.Error:
                pass

    def _survivors(self) -> list[psutil.Process]:
        alive = []
        for pid, created in list(self._known.items()):
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
                    continue
            except psutil.Error:
                pass
            self._known.pop(pid, None)
        return alive

    def _signal_all(self, pgid: int, sig: int) -> None:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for proc in self._survivors():
            try:
                proc.send_signal(sig)
            except psutil.Error:
                pass

    def _reader(self, stream: str, pipes_open: list[int], closed: threading.Event):
        """The pump's callback for one pipe: split, emit, and note end of file."""
        buffer = bytearray()

        def on_data(data: bytes) -> None:
            buffer.extend(data)
            raws: list[bytes] = []
            _split_lines(buffer, raws.append, final=not data)
            if raws:
                self._emit(stream, raws)
            if not data:
                pipes_open[0] -= 1
                if pipes_open[0] == 0:
                    closed.set()
        return on_data

    def run(self, *, timeout: float | None, grace: float, stop: StopRequest) -> ProcessOutcome:
        proc = subprocess.Popen(
            [self.shell, "-c", self.command], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.cwd,
            start_new_session=True, bufsize=0, close_fds=True,
        )
        self.on_spawn(proc.pid)
        pgid = proc.pid
        pipes_open = [2]
        closed = threading.Event()
        assert proc.stdout is not None and proc.stderr is not None  # both asked for as PIPE
        PUMP.add(proc.stdout, self._reader("out", pipes_open, closed))
        PUMP.add(proc.stderr, self._reader("err", pipes_open, closed))
        # A pidfd becomes readable the moment the process exits: no sleep-polling.
        exit_fd = os.pidfd_open(proc.pid)
        started = time.monotonic()
        deadline = started + timeout if timeout else None
        # The first descendant scan waits a little: most short jobs are gone by then.
        next_scan = started + 0.2
        stopped = timed_out = killed = False
        kill_at: float | None = None      # when SIGTERM turns into SIGKILL
        try:
            while proc.poll() is None:
                now = time.monotonic()
                wait = 0.1 if deadline is None else max(0.0, min(0.1, deadline - now))
                select.select([exit_fd], [], [], wait)
                if proc.poll() is not None:
                    break
                now = time.monotonic()
                if kill_at is None:
                    if stop.event.is_set():
                        stopped = True
                    elif deadline is not None and now >= deadline:
                        timed_out = True
                    if stopped or timed_out:
                        self._remember_descendants(pgid, fresh=True)
                        kill_at = now + grace
                        if not stop.kill_now:
                            self._signal_all(pgid, signal.SIGTERM)
                if kill_at is not None and not killed and (now >= kill_at or stop.kill_now):
                    killed = True
                    self._signal_all(pgid, signal.SIGKILL)
                if now >= next_scan:
                    self._remember_descendants(pgid)
                    next_scan = now + 1.0
        finally:
            os.close(exit_fd)
        if not closed.wait(PIPE_LINGER_S):
            # Background children still hold the output open after the job ended:
            # stop them, as systemd does with a service's leftovers.
            self._remember_descendants(pgid, fresh=True)
            self._signal_all(pgid, signal.SIGTERM)
            if not closed.wait(min(grace, 5.0)):
                self._signal_all(pgid, signal.SIGKILL)
                if not closed.wait(10):
                    PUMP.drop(proc.stdout)
                    PUMP.drop(proc.stderr)
                    closed.wait(5)
        if self._survivors():
            self._signal_all(pgid, signal.SIGTERM)
            end = time.monotonic() + min(grace, 5.0)
            while self._survivors() and time.monotonic() < end:
                time.sleep(0.05)
            self._signal_all(pgid, signal.SIGKILL)
        code = proc.returncode
        signal_name = None
        if code is not None and code < 0:
            try:
                signal_name = signal.Signals(-code).name
            except ValueError:
                signal_name = f"signal {-code}"
            code = 128 - code
        return ProcessOutcome(exit_code=code, signal_name=signal_name, stopped=stopped,
                              timed_out=timed_out, last_stderr=self._last_stderr)
