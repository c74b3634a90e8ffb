"""The loadwatch dashboard: ``streamlit run dashboard/app/main.py`` (or ``loadwatch dashboard``).

A multipage app: each page in ``dashboard/app/pages/`` is a short script that reads the store through
``loadwatch.dashboard.app.ui``, calls ``metrics`` and draws.  The store comes from ``$LOADWATCH_DB`` (``loadwatch
dashboard --db``); ``$LOADWATCH_DEMO=1`` shows the demo store.
"""

from __future__ import annotations

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402
from PIL import Image  # noqa: E402


def _favicon() -> Image.Image:
    """A teal dot drawn here: a material-icon or emoji favicon would be fetched from a CDN."""
    yy, xx = np.mgrid[0:32, 0:32]
    inside = (yy - 15.5) ** 2 + (xx - 15.5) ** 2 <= 15**2
    img = np.zeros((32, 32, 4), dtype=np.uint8)
    img[inside] = (31, 111, 139, 255)
    return Image.fromarray(img, mode="RGBA")


st.set_page_config(page_title="loadwatch", page_icon=_favicon(), layout="wide")

from loadwatch.dashboard.app import auth  # noqa: E402

auth.gate()  # beyond loopback: nothing of the runner's data before the password

PAGES = [
    st.Page("pages/this_week.py", title="This week", icon=":material/traffic:", default=True),
    st.Page("pages/import_files.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("pages/load.py", title="Load", icon=":material/bar_chart:", url_path="load"),
    st.Page("pages/month_calendar.py", title="Calendar", icon=":material/calendar_month:", url_path="calendar"),
    st.Page("pages/pain_log.py", title="Pain log", icon=":material/healing:", url_path="pain"),
    st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"),
    st.Page("pages/activities.py", title="Activities", icon=":material/directions_run:",
            url_path="activities"),
    st.Page("pages/shoes_sessions.py", title="Shoes & sessions", icon=":material/fitness_center:",
            url_path="shoes"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
]

from loadwatch.ingest.store_errors import StoreError  # noqa: E402
from loadwatch.metrics import fmt  # noqa: E402

try:
    st.navigation(PAGES).run()
except StoreError as exc:  # a read-only, full or damaged store: its one sentence, never a traceback
    st.error(fmt.markdown_text(exc), icon=":material/database:")
