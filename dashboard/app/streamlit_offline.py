"""Streamlit's own command line with its look-ups of this machine's addresses switched off.

Streamlit finds "this machine's" addresses by connecting a UDP socket to 8.8.8.8 and by fetching
http(s)://checkip.amazonaws.com (``streamlit.net_util``): when it prints its URLs while bound to every
interface, and whenever a websocket arrives with an Origin it does not know, so any web page the runner
visits could make it look up the address by opening a websocket to the dashboard.  No option turns
these off, so ``loadwatch dashboard`` runs Streamlit as ``python -m loadwatch.dashboard.app.streamlit_offline run ...``:
both functions answer "unknown" before Streamlit starts, a foreign Origin is refused without a look-up,
and nothing leaves the machine (``tests/test_no_traffic.py`` proves it under strace).
"""

from __future__ import annotations

import sys

#: The functions of ``streamlit.net_util`` that reach the network to find this machine's addresses.
LOOKUPS = ("get_internal_ip", "get_external_ip")


def _unknown() -> None:
    """This machine's address, as far as Streamlit is told: unknown (Streamlit skips what is None)."""
    return None


def disable_address_lookups() -> None:
    """Replace Streamlit's address look-ups; a Streamlit without them is refused rather than trusted, so
    that a new release that moves them cannot silently bring the traffic back."""
    from streamlit import net_util

    missing = [name for name in LOOKUPS if not callable(getattr(net_util, name, None))]
    if missing:
        raise RuntimeError(f"this Streamlit has no streamlit.net_util.{', '.join(missing)}: loadwatch cannot "
                           "make sure it looks up no address on the network")
    for name in LOOKUPS:
        setattr(net_util, name, _unknown)


def main() -> None:
    disable_address_lookups()
    from streamlit.web import cli

    sys.argv[0] = "streamlit"
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
