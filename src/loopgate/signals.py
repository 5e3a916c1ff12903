"""The stop signals every long command answers itself, and how a command hands them back.

A command that caught SIGTERM is stopping and about to exit with its own code. Putting the default
action back as it returns leaves a window before the interpreter exits in which one more SIGTERM (a
supervisor sending it again, Ctrl-C pressed twice) ends the finished command with -15 or 130 instead.
When this process *is* the command (started by its entry point, `ENTRY`), a command that was signalled
keeps the signals ignored to the end. A caller in the same process (a test runner's CliRunner) always
gets its own handlers back: an ignored SIGTERM would pass on to every process it starts later.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping

TYPE_CHECKING = False  # `typing` is for mypy alone: importing it is 2.5 ms of every cold start
if TYPE_CHECKING:
    from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

# True once the console entry point runs: the process ends with the command
ENTRY = False


def put_back(previous: Mapping[Any, Any], signalled: bool) -> None:
    """Restore the handlers in `previous` (None, a handler not set from Python, reads as the default),
    unless this process is the command and it was `signalled`: then the signals stay ignored."""
    hold = ENTRY and signalled
    for sig, handler in previous.items():
        if hold:
            signal.signal(sig, signal.SIG_IGN)
        else:
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
