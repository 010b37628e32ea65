"""Allow ``python -m tui_scheduler``."""

from tui_scheduler.cli import main

raise SystemExit(main())
