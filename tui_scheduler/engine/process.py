"""Running a command job: its own process group, line capture, stop and timeout.

Stopping sends SIGTERM to the whole group and to every descendant seen during the run
(psutil; this catches children that left the group with ``setsid``), then SIGKILL after
the job's grace period. Processes left behind when the main process exits are stopped
the same way, as systemd does for a service's control group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from tui_scheduler.core.progress import Progress, parse_progress_line

MAX_LINE = 64 * 1024
READ_SIZE = 64 * 1024
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


@dataclass
class StopRequest:
    """Shared between the run's thread and whoever asks it to stop."""

    event: threading.Event = field(default_factory=threading.Event)
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


def decode_line(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class CommandRunner:
    """Runs one shell command and reports lines and progress through callbacks."""

    def __init__(self, command: str, *, env: dict[str, str], cwd: str | None,
                 on_line: Callable[[str, str], None],
                 on_progress: Callable[[Progress], None],
                 on_spawn: Callable[[int], None] = lambda pid: None):
        self.command = command
        self.env = env
        self.cwd = cwd
        self.on_line = on_line
        self.on_progress = on_progress
        self.on_spawn = on_spawn
        self._known: dict[int, float] = {}
        self._last_stderr = ""

    def _reader(self, pipe, stream: str) -> None:
        buffer = bytearray()

        def emit(raw: bytes) -> None:
            line = decode_line(raw)
            if stream == "err":
                if line.strip():
                    self._last_stderr = line[:300]
            elif len(line) < 4096:
                progress = parse_progress_line(line)
                if progress is not None:
                    self.on_progress(progress)
            self.on_line(stream, line)

        fd = pipe.fileno()
        while True:
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:
                data = b""
            if not data:
                _split_lines(buffer, emit, final=True)
                break
            buffer += data
            _split_lines(buffer, emit, final=False)
        pipe.close()

    def _remember_descendants(self, pid: int) -> None:
        try:
            parent = psutil.Process(pid)
            family = [parent, *parent.children(recursive=True)]
        except psutil.Error:
            return
        for proc in family:
            try:
                self._known.setdefault(proc.pid, proc.create_time())
            except psutil.Error:
                pass

    def _survivors(self, pgid: int) -> list[psutil.Process]:
        alive = []
        for pid, created in list(self._known.items()):
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.Error:
                self._known.pop(pid, None)
        return alive

    def _signal_all(self, pgid: int, sig: int) -> None:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for proc in self._survivors(pgid):
            try:
                proc.send_signal(sig)
            except psutil.Error:
                pass

    def _terminate(self, proc: subprocess.Popen, grace: float,
                   stop: StopRequest | None = None) -> None:
        """SIGTERM, then SIGKILL after the grace period (or as soon as a kill is asked)."""
        pgid = proc.pid
        self._remember_descendants(proc.pid)
        if not (stop and stop.kill_now):
            self._signal_all(pgid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and not (stop and stop.kill_now):
                if proc.poll() is not None and not self._survivors(pgid):
                    return
                time.sleep(0.05)
        self._signal_all(pgid, signal.SIGKILL)

    def run(self, *, timeout: float | None, grace: float, stop: StopRequest) -> ProcessOutcome:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", self.command], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.cwd,
            start_new_session=True, bufsize=0, close_fds=True,
        )
        self.on_spawn(proc.pid)
        readers = [threading.Thread(target=self._reader, args=(proc.stdout, "out"), daemon=True),
                   threading.Thread(target=self._reader, args=(proc.stderr, "err"), daemon=True)]
        for reader in readers:
            reader.start()
        started = time.monotonic()
        deadline = started + timeout if timeout else None
        timed_out = stopped = False
        # The first descendant scan waits a little: most short jobs are gone by then and
        # a scan reads all of /proc.
        next_scan = started + 0.2
        while True:
            now = time.monotonic()
            wait = 0.1 if deadline is None else max(0.0, min(0.1, deadline - now))
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                pass
            if stop.event.is_set():
                stopped = True
                self._terminate(proc, grace, stop)
                break
            if deadline is not None and time.monotonic() >= deadline:
                timed_out = True
                self._terminate(proc, grace)
                break
            if time.monotonic() >= next_scan:
                self._remember_descendants(proc.pid)
                next_scan = time.monotonic() + 1.0
        proc.wait()
        for reader in readers:
            reader.join(PIPE_LINGER_S)
        if any(reader.is_alive() for reader in readers) or self._survivors(proc.pid):
            self._terminate(proc, min(grace, 5.0))
            for reader in readers:
                reader.join(5.0)
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
