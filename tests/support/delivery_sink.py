"""A real SMTP server (aiosmtpd) and a real HTTP server on 127.0.0.1, ports picked by the
kernel (port 0), for the delivery tests. Prints {"smtp": port, "http": port} on one line, then
appends one JSON line per request to --log. Exits when its stdin closes (the test ended, even
by a panic) or after --lifetime seconds.

Faults, to test retries:
  --smtp-fail N         the first N messages get `451 try again later`
  --smtp-reject ADDR    RCPT TO ADDR gets `550 no such user`
  --smtp-auth USER:PASS AUTH is required (plain text allowed on loopback)
  --tls starttls|wrapper with --cert/--key: SMTP requires STARTTLS, or speaks TLS from the
                        first byte (as on port 465)
  --http-plan JSON      {"/path": [500, 200]}: the statuses answered to successive POSTs to a
                        path (the last one repeats; 429 comes with Retry-After: 1); other paths
                        get 200
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP, AuthResult

args = None
lock = threading.Lock()
log_file = None


def record(obj):
    with lock:
        log_file.write(json.dumps(obj) + "\n")
        log_file.flush()
        os.fsync(log_file.fileno())


class Handler:
    def __init__(self):
        self.data_seen = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.smtp_reject and address == args.smtp_reject:
            record({"kind": "smtp_reject", "rcpt": address})
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_seen += 1
        if self.data_seen <= args.smtp_fail:
            record({"kind": "smtp_refused", "attempt": self.data_seen})
            return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for p in msg.walk():
            if p.get_content_maintype() == "text":
                parts[p.get_content_type()] = p.get_content()
        record({
            "kind": "smtp",
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth": session.authenticated,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "headers": {k: str(v) for k, v in msg.items()},
            "parts": parts,
        })
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = args.smtp_auth.split(":", 1)
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok)


class Http(BaseHTTPRequestHandler):
    counts = {}

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        plan = args.http_plan.get(self.path, [200])
        with lock:
            k = Http.counts.get(self.path, 0)
            Http.counts[self.path] = k + 1
        status = plan[min(k, len(plan) - 1)]
        record({
            "kind": "http",
            "path": self.path,
            "status": status,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        })
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "1")
        text = b"ok" if status < 300 else b"no"
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *a):
        pass


def watch_stdin():
    sys.stdin.read()
    os._exit(0)


def main():
    global args, log_file
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--smtp-fail", type=int, default=0)
    ap.add_argument("--smtp-reject", default="")
    ap.add_argument("--smtp-auth", default="")
    ap.add_argument("--http-plan", type=json.loads, default={})
    ap.add_argument("--lifetime", type=float, default=600)
    ap.add_argument("--tls", choices=["starttls", "wrapper"], default=None)
    ap.add_argument("--cert", default="")
    ap.add_argument("--key", default="")
    args = ap.parse_args()
    log_file = open(args.log, "a")

    http = ThreadingHTTPServer(("127.0.0.1", 0), Http)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler()
    kw = {}
    if args.smtp_auth:
        kw = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    ctx = None
    if args.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    if args.tls == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)

    def factory():
        return SMTP(handler, hostname="sink.localhost", **kw)

    wrap = ctx if args.tls == "wrapper" else None
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=0, ssl=wrap))
    smtp_port = server.sockets[0].getsockname()[1]
    print(json.dumps({"smtp": smtp_port, "http": http.server_address[1]}), flush=True)
    loop.run_forever()


if __name__ == "__main__":
    main()
