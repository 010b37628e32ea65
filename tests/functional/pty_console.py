"""The real console (``python -m tui_scheduler``) in a pseudo-terminal, for tests of how
it starts and ends: the terminal it writes to, keys typed into it, its exit code."""

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

ROOT = Path(__file__).resolve().parents[2]
ESCAPE = re.compile(r"\x1b\[[0-9;?<>=]*[a-zA-Z]")


class PtyConsole:
    """``python -m tui_scheduler ARGS`` on a 100x30 terminal (``env``: variables to add)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT), **(env or {})}
        pid, self.master = pty.fork()
        if pid == 0:
            try:
                fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
                argv = [sys.executable, "-m", "tui_scheduler", *args]
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid = pid
        self.code: int | None = None
        self._output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self._output += data

    @property
    def text(self) -> str:
        return self._output.decode(errors="replace")

    def wait_for(self, needle: str, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text:
                return True
            if self.poll() is not None:
                return needle in self.text
            time.sleep(0.05)
        return False

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def poll(self) -> int | None:
        if self.code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def wait(self, timeout: float = 30.0) -> int:
        """The exit code; the process is killed (and the test fails) after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise AssertionError(f"the console did not exit; it showed:\n{self.text}")
            time.sleep(0.05)
        self._reader.join(5)
        self.hang_up()
        return self.code

    def hang_up(self) -> None:
        """Close our end of the terminal, as a dropped SSH connection does (the kernel
        then sends the console SIGHUP, and its writes to the terminal fail)."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def after_screen(self) -> str:
        """What was printed after the full-screen console gave the terminal back, less
        the escape codes that reset the terminal's modes."""
        return ESCAPE.sub("", self.text.rpartition("\x1b[?1049l")[2])
