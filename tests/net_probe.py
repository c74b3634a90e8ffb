"""A client that does to a running dashboard what a browser and a hostile web page would, and prints
what it saw as JSON: ``python -m tests.net_probe BASE_URL [--password-file PATH]``.

It runs as its own process so that it can be started inside the dashboard's network namespace
(``nsenter``) and so that its own connections are never part of the dashboard's traced traffic.
Steps: the health check and the page; a websocket from a foreign web page (another Origin); a DNS
rebinding attempt (a foreign Host and Origin); then, as the runner's browser, a session running the
default page to its end.  Behind loadwatch's front it logs in first (``--password-file``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import ssl
import sys
import urllib.parse
import urllib.request


def _ssl_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the dashboard's self-signed certificate
    return ctx


def _opener(jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=_ssl_context()),
                                       urllib.request.HTTPCookieProcessor(jar))


def login(base: str, password: str) -> str:
    """The ``Cookie`` header of a logged-in browser ('' when the login was refused)."""
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    data = urllib.parse.urlencode({"password": password}).encode()
    req = urllib.request.Request(f"{base}/_loadwatch/login", data=data, headers={"Origin": base})
    try:
        with opener.open(req, timeout=30) as r:
            r.read()
    except urllib.error.HTTPError:
        return ""
    return "; ".join(f"{c.name}={c.value}" for c in jar)


async def _ws_status(ws_url: str, headers: dict, origin: str, rerun: bool, ctx) -> dict:
    """Open a websocket; with ``rerun``, run the default page to its end.  Returns what happened."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None, origin=origin,
                                      additional_headers=headers, ssl=ctx, open_timeout=30) as ws:
            if not rerun:
                return {"opened": True}
            msg = BackMsg(rerun_script=ClientState(query_string="", page_script_hash=""))
            await ws.send(msg.SerializeToString())
            kinds, texts = [], []
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=120))
                kinds.append(fwd.WhichOneof("type"))
                if kinds[-1] == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    element = fwd.delta.new_element
                    kind = element.WhichOneof("type")
                    if kind in ("markdown", "alert", "heading"):
                        texts.append(getattr(element, kind).body)
                    elif kind == "metric":
                        texts.append(f"{element.metric.label}: {element.metric.body}")
                    elif kind:
                        texts.append(f"<{kind}>")
                if kinds[-1] == "script_finished":
                    return {"opened": True, "finished": True, "messages": len(kinds), "texts": texts}
    except websockets.InvalidStatus as exc:
        return {"opened": False, "status": exc.response.status_code}
    except (OSError, websockets.WebSocketException) as exc:
        return {"opened": False, "error": type(exc).__name__}


async def probe(base: str, password: str | None) -> dict:
    parsed = urllib.parse.urlsplit(base)
    ws_base = ("wss" if parsed.scheme == "https" else "ws") + f"://{parsed.netloc}/_stcore/stream"
    ctx = _ssl_context() if parsed.scheme == "https" else None
    cookie = login(base, password) if password else ""
    headers = {"Cookie": cookie} if cookie else {}
    out: dict = {"logged_in": bool(cookie)}
    opener = _opener(http.cookiejar.CookieJar())
    for name, path in (("health", "/_stcore/health"), ("page", "/")):
        req = urllib.request.Request(base + path, headers=headers)
        try:
            with opener.open(req, timeout=30) as r:
                out[name] = r.status
        except urllib.error.HTTPError as exc:
            out[name] = exc.code
    out["foreign_origin"] = await _ws_status(ws_base, headers, "http://evil.example", False, ctx)
    # DNS rebinding: the page's own name resolves to this machine, so Host and Origin agree
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    rebound = {**headers, "Host": f"evil.example:{port}"}
    out["rebinding"] = await _ws_status(ws_base, rebound, f"{parsed.scheme}://evil.example:{port}", False, ctx)
    out["session"] = await _ws_status(ws_base, headers, base, True, ctx)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--password-file")
    args = ap.parse_args(argv)
    password = None
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as fh:
            password = fh.readline().strip()
    print(json.dumps(asyncio.run(probe(args.base.rstrip("/"), password))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
