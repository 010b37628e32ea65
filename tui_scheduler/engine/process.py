"""Running a command job: its own process group, line capture, stop and timeout.

Stopping sends SIGTERM to the whole group and to every descendant seen during the run
(psutil; this catches children that left the group with ``setsid``), then SIGKILL after
the job's grace period. Processes left behind when the main process exits are stopped
the same way, as systemd does for a service's control group.
"""

from __future__ import annotations

import os
import selectors
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
    """Runs one shell command on the calling thread and reports lines and progress.

    One thread per run does everything (a selector over stdout and stderr, the clock for
    timeouts and stop grace periods), so a burst of runs costs one thread each, not three.
    """

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

    def _emit(self, stream: str, raw: bytes) -> None:
        line = decode_line(raw)
        if stream == "err":
            if line.strip():
                self._last_stderr = line[:300]
        elif len(line) < 4096:
            progress = parse_progress_line(line)
            if progress is not None:
                self.on_progress(progress)
        self.on_line(stream, line)

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

    def run(self, *, timeout: float | None, grace: float, stop: StopRequest) -> ProcessOutcome:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", self.command], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.cwd,
            start_new_session=True, bufsize=0, close_fds=True,
        )
        self.on_spawn(proc.pid)
        pgid = proc.pid
        selector = selectors.DefaultSelector()
        buffers: dict[str, bytearray] = {}
        for pipe, stream in ((proc.stdout, "out"), (proc.stderr, "err")):
            selector.register(pipe, selectors.EVENT_READ, stream)
            buffers[stream] = bytearray()
        # A pidfd wakes the selector the moment the process exits (no sleep-polling).
        exit_fd = os.pidfd_open(proc.pid)
        selector.register(exit_fd, selectors.EVENT_READ, "exit")
        started = time.monotonic()
        deadline = started + timeout if timeout else None
        # The first descendant scan waits a little: most short jobs are gone by then and
        # a scan reads all of /proc.
        next_scan = started + 0.2
        stopped = timed_out = False
        kill_at: float | None = None      # when SIGTERM turns into SIGKILL
        killed = False
        exited_at: float | None = None    # main process gone, pipes maybe still held
        while True:
            for key, _ in selector.select(timeout=0.1):
                stream = key.data
                if stream == "exit":
                    selector.unregister(exit_fd)
                    continue
                try:
                    data = os.read(key.fd, READ_SIZE)
                except OSError:
                    data = b""
                buffers[stream] += data
                _split_lines(buffers[stream], lambda raw, s=stream: self._emit(s, raw),
                             final=not data)
                if not data:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
            now = time.monotonic()
            if proc.poll() is not None:
                if not any(key.data != "exit" for key in selector.get_map().values()):
                    break
                if exited_at is None:
                    exited_at = now
                elif now - exited_at > PIPE_LINGER_S and kill_at is None:
                    # Background children still hold the output open after the job ended.
                    kill_at = now + min(grace, 5.0)
                    self._signal_all(pgid, signal.SIGTERM)
                elif now - exited_at > PIPE_LINGER_S + 15:
                    break  # something unkillable holds the pipe: stop reading
            if kill_at is None:
                if stop.event.is_set():
                    stopped = True
                elif deadline is not None and now >= deadline:
                    timed_out = True
                if stopped or timed_out:
                    self._remember_descendants(pgid)
                    kill_at = now + grace
                    if not stop.kill_now:
                        self._signal_all(pgid, signal.SIGTERM)
            if kill_at is not None and not killed and (now >= kill_at or stop.kill_now):
                killed = True
                self._signal_all(pgid, signal.SIGKILL)
            if now >= next_scan and proc.poll() is None:
                self._remember_descendants(pgid)
                next_scan = now + 1.0
        selector.close()
        os.close(exit_fd)
        for pipe in (proc.stdout, proc.stderr):
            if not pipe.closed:
                pipe.close()
        proc.wait()
        if self._survivors():
            # Stragglers of a job that ended by itself: stopped, as systemd would.
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
