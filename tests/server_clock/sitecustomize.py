"""The test's frozen clock in every Python process a test server starts (not a test module).

A browser test starts ``loadwatch dashboard`` as a subprocess; it starts Streamlit, which starts import
workers: processes time-machine in the test's own process cannot reach.  ``tests.helpers.frozen_clock_env``
puts this folder first on their ``PYTHONPATH`` (Python imports ``sitecustomize`` from it when each
interpreter starts) and names the moment in ``LOADWATCH_SERVER_CLOCK``: ``<ISO moment>@<monotonic seconds>``.
Each process travels with time-machine (ticking) to that moment plus the time since the test named it, read
on the machine-wide monotonic clock, so all of them show one clock, as the test's own does: ``date.today()``,
``datetime.now(tz)``, ``time.time()`` and pandas ``Timestamp.now()`` (the calls the app makes) all answer on
the test's day.  Without the variable nothing happens.
"""

import os

_CLOCK = os.environ.get("LOADWATCH_SERVER_CLOCK")

if _CLOCK:
    import time
    from datetime import datetime, timedelta

    import time_machine

    _moment, _, _named_at = _CLOCK.partition("@")
    _since_s = max(0.0, time.monotonic() - float(_named_at)) if _named_at else 0.0
    _TRAVEL = time_machine.travel(datetime.fromisoformat(_moment) + timedelta(seconds=_since_s), tick=True)
    _TRAVEL.start()  # for the life of the process: nothing stops it
