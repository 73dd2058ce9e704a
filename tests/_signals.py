"""How a test's child process hears a Ctrl-C: as it would in a terminal."""

from __future__ import annotations

import functools
import signal

#: A child's ``preexec_fn``: SIGINT handled by default, as in a terminal. A runner started in
#: the background (a CI runner's ``cmd &``, ``nohup``) ignores SIGINT; its children inherit the
#: ignore, Python then installs no KeyboardInterrupt handler, and a child sent SIGINT never
#: heard it (it waited out its sleep, or ran to its end).
SIGINT_AS_IN_A_TERMINAL = functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL)
