"""tui-scheduler: a terminal console for scheduled jobs.

Layers (imports point downward only): ``cli``/``ui`` -> ``engine`` -> ``store`` -> ``core``.
"""

__version__ = "0.1.0"
