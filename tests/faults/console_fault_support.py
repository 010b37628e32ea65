"""Helpers for the console fault tests: measuring how responsive the UI loop is, and
small real file systems that fill up or turn read-only under a running console.

Responsiveness is measured on the app's own loop, not through ``pilot.press`` (which
waits for idle, so it hides a stall): a 50 ms interval timer records the gaps between
its ticks, and keys are handed to the driver and timed until their effect shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from textual import events
from textual.app import App


class Heartbeat:
    """An interval timer on the UI loop that remembers the longest gap between ticks."""

    def __init__(self, app: App, every: float = 0.05) -> None:
        self.every = every
        self.ticks = 0
        self.max_gap = 0.0
        self.gaps: list[float] = []
        self._last: float | None = None
        self._timer = app.set_interval(every, self._beat)

    def _beat(self) -> None:
        now = time.monotonic()
        if self._last is not None:
            gap = now - self._last
            self.gaps.append(gap)
            self.max_gap = max(self.max_gap, gap)
        self._last = now
        self.ticks += 1

    def restart(self) -> None:
        """Forget what was measured so far (a new window starts now)."""
        self.ticks, self.max_gap, self.gaps, self._last = 0, 0.0, [], None

    def summary(self) -> str:
        if not self.gaps:
            return "no ticks"
        ordered = sorted(self.gaps)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (f"{self.ticks} ticks, max gap {self.max_gap * 1000:.0f} ms, "
                f"p99 {p99 * 1000:.0f} ms")

    def stop(self) -> None:
        self._timer.stop()


async def key_latency(app: App, key: str, effect: Callable[[], Any],
                      timeout: float = 10.0) -> float:
    """Seconds from handing ``key`` to the driver (as a terminal would) until ``effect()``
    is true. No idle-waiting: the key is queued and the test only polls."""
    char = key if len(key) == 1 else None
    start = time.monotonic()
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)
    while not effect():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"key {key!r} had no effect within {timeout}s")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


class PeakMemory:
    """The process's peak RSS growth, sampled on a thread."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self.baseline = self._me.memory_info().rss
        self.peak = self.baseline
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, self._me.memory_info().rss)

    def stop(self) -> float:
        """Growth in MiB."""
        self._done.set()
        self._thread.join()
        return (self.peak - self.baseline) / 1024 / 1024


# ---- small real file systems -------------------------------------------------------------

def _need_root_and(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small file system (CI runs as root)")
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} to make a small file system")


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=30)


def _unmount(path: Path) -> None:
    for _ in range(20):
        if _run("umount", str(path)).returncode == 0:
            return
        time.sleep(0.1)
    _run("umount", "-l", str(path))  # still busy: detach it, the kernel frees it later


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``path``: a disk that really fills up (ENOSPC)."""
    _need_root_and("mount", "umount")
    path.mkdir(parents=True, exist_ok=True)
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (no CAP_SYS_ADMIN?): {done.stderr.strip()}")
    try:
        yield path
    finally:
        _unmount(path)


@contextlib.contextmanager
def ext4_loop(path: Path, image: Path, size_mb: int = 32) -> Iterator[str]:
    """An ext4 file system on a loop device, mounted on ``path`` with errors=remount-ro:
    ``fail_readonly`` turns it read-only under open files, as the kernel does after an
    I/O error. Yields the loop device's name (``loop3``)."""
    _need_root_and("mount", "umount", "losetup", "mkfs.ext4")
    with image.open("wb") as handle:
        handle.truncate(size_mb * 1024 * 1024)
    made = _run("mkfs.ext4", "-q", "-F", str(image))
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    attached = _run("losetup", "--find", "--show", str(image))
    if attached.returncode != 0:
        pytest.skip(f"no loop device available: {attached.stderr.strip()}")
    device = attached.stdout.strip()
    try:
        path.mkdir(parents=True, exist_ok=True)
        mounted = _run("mount", "-o", "errors=remount-ro", device, str(path))
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount ext4 on {device}: {mounted.stderr.strip()}")
        name = os.path.basename(device)
        if not os.path.exists(f"/sys/fs/ext4/{name}/trigger_fs_error"):
            _unmount(path)
            pytest.skip("the kernel has no /sys/fs/ext4/*/trigger_fs_error")
        try:
            yield name
        finally:
            _unmount(path)
    finally:
        _run("losetup", "-d", device)


def fail_readonly(device: str) -> None:
    """Make the ext4 file system on ``device`` hit an error: with errors=remount-ro the
    kernel turns it read-only at once, open files included."""
    with open(f"/sys/fs/ext4/{device}/trigger_fs_error", "w") as handle:
        handle.write("tui-scheduler test: simulated disk error\n")


def is_readonly(path: Path) -> bool:
    """Writes fail with EROFS (an emergency read-only ext4 still says "rw" in statvfs)."""
    try:
        (path / ".probe").touch()
    except OSError as exc:
        if exc.errno == errno.EROFS:
            return True
        raise
    (path / ".probe").unlink()
    return False


def fill(path: Path, leave: int = 0) -> Path:
    """Write a filler file until the file system of ``path`` has ``leave`` bytes free
    (or none: it writes until ENOSPC)."""
    filler = path / "filler"
    block = b"\0" * (64 * 1024)
    with filler.open("wb", buffering=0) as handle:
        while True:
            free = free_bytes(path)
            if free <= leave:
                break
            try:
                handle.write(block[:max(1, min(len(block), free - leave))])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return filler


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize

