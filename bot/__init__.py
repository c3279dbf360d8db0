"""Deflect's wiring: settings, storage, translations and the `deflect` command line."""

import os

# python-telegram-bot 22 reports durations (RetryAfter.retry_after among them) as
# datetime.timedelta when this is set, and otherwise warns on every 429 that a future version
# will. Deflect reads none of them itself, so it takes the future behaviour now.
os.environ.setdefault("PTB_TIMEDELTA", "1")
