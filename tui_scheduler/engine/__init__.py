"""The engine: APScheduler wiring, the run lifecycle, process control and recovery.

Importing it must not import Textual (a test checks this in a subprocess).
"""

from tui_scheduler.engine.scheduler import Engine, EngineLockedError

__all__ = ["Engine", "EngineLockedError"]
