"""The password gate for a dashboard reachable beyond this machine.

``loadwatch dashboard --host ADDR`` with a non-loopback address passes the password to the Streamlit
process in ``$LOADWATCH_PASSWORD`` (see :mod:`loadwatch.dashboard.cli.cmd_app`).  When it is set, :func:`gate` runs
before any page: it shows a password field and nothing else, and stops the script until this browser
session has given the password.  The comparison is constant-time (:func:`hmac.compare_digest`); the
password is never shown, logged or kept in the session (only the fact that it was given is).
"""

from __future__ import annotations

import hmac
import os
import time

import streamlit as st

from loadwatch.dashboard.app.serving import PASSWORD_ENV, is_loopback

#: Header and environment variable of the front's secret (the same names as ``dashboard.app.front``'s,
#: which the app does not import: it would bring Tornado into every page run).
FRONT_HEADER = "X-Loadwatch-Front"
FRONT_TOKEN_ENV = "LOADWATCH_FRONT_TOKEN"

_SESSION_KEY = "_lw_password_ok"
#: Seconds a wrong password waits before the page answers (slows guessing over the network).
WRONG_PASSWORD_DELAY_S = 1.0


def expected_password() -> str | None:
    """The configured password, or None when the dashboard is open (loopback)."""
    return os.environ.get(PASSWORD_ENV) or None


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of two passwords (as UTF-8 bytes)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def is_open() -> bool:
    """True when no password is configured or this session has given it."""
    return expected_password() is None or bool(st.session_state.get(_SESSION_KEY))


def password_page() -> None:
    """The only page a session sees until it has given the password: a field, nothing else."""
    expected = expected_password() or ""
    st.title("loadwatch")
    st.markdown("This dashboard is shared beyond its own computer, so it asks for its password first.")
    with st.form("password_gate", clear_on_submit=True):
        given = st.text_input("Password", type="password", key="_lw_password_field")
        submitted = st.form_submit_button("Open the dashboard", type="primary")
    if submitted:
        if password_matches(given or "", expected):
            st.session_state[_SESSION_KEY] = True
            st.rerun()
        time.sleep(WRONG_PASSWORD_DELAY_S)
        st.error("That is not the password.")


def refusal() -> str | None:
    """Why this session must be shown nothing (a plain sentence), or None.

    A session over a real connection always has a ``Host`` header (HTTP/1.1 requires it); a script run
    without one (Streamlit's AppTest) has no server to check."""
    headers = st.context.headers
    if headers.get("Host") is None:
        return None
    address = st.get_option("server.address")
    if not address or not is_loopback(str(address)):
        return ("This dashboard was started so that the network reaches it without loadwatch's login in "
                "front of it, so it shows nothing. Start it with `loadwatch dashboard --host ADDRESS`: "
                "it asks for a password and encrypts the connection.")
    token = os.environ.get(FRONT_TOKEN_ENV)
    if token and not hmac.compare_digest(headers.get(FRONT_HEADER, "").encode(), token.encode()):
        return "This dashboard is reached through its login page only."
    return None


def refusal_page() -> None:
    """The only page of a session that must see nothing: the reason, in plain words."""
    st.title("loadwatch")
    st.error(refusal() or "")


def gate() -> None:
    """Run from the app's entry point before its navigation: a session that must see nothing
    (:func:`refusal`) gets the reason alone; until the password is given, the navigation holds the
    password page alone (every address shows it, and Streamlit's fallback to the ``pages/`` folder is
    never reached), then the script stops."""
    reason = refusal()
    if reason is not None:
        st.navigation([st.Page(refusal_page, title="loadwatch", default=True)],
                      position="hidden").run()
        st.stop()
    if is_open():
        return
    st.navigation([st.Page(password_page, title="loadwatch", default=True)], position="hidden").run()
    st.stop()


def require() -> None:
    """Defence in depth for each page script: stop at once when the password has not been given or the
    session must see nothing."""
    if not is_open() or refusal() is not None:
        st.stop()
