"""Where the dashboard listens and who may reach it: the few settings both the command that starts it
(``loadwatch dashboard``, :mod:`loadwatch.dashboard.cli.cmd_app`) and the app itself (its password gate,
:mod:`loadwatch.dashboard.app.auth`; the Import page's upload limit) read.  No Streamlit here: the command imports it.
"""

from __future__ import annotations

import ipaddress

DEFAULT_PORT = 8501
DEFAULT_HOST = "127.0.0.1"
#: Largest upload the Import page accepts [MB] (``--server.maxUploadSize``): a Garmin "export your data"
#: zip of several years is a few hundred MB.
MAX_UPLOAD_MB = 1024
#: Environment variable holding the dashboard password (also how it reaches the Streamlit child).
PASSWORD_ENV = "LOADWATCH_PASSWORD"
#: Environment variable that asks for the password gate even on loopback (stricter only; used by tests
#: that exercise the gate without listening beyond this machine).
REQUIRE_PASSWORD_ENV = "LOADWATCH_REQUIRE_PASSWORD"
#: Host names a loopback Streamlit accepts in a websocket's Host header (with the ``--host`` given).
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """True for addresses that only this machine reaches (127.0.0.0/8, ::1, ``localhost``).  Any other
    name is treated as reaching the network (it is not resolved: resolving may itself leave the machine)."""
    name = host.strip().strip("[]").split("%", 1)[0].lower()
    if name in ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
