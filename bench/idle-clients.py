#!/usr/bin/env python3
"""Many PostgreSQL-protocol clients on one proxy, for bench/idle-clients.sh.

    idle-clients.py --port P --idle N   connect N clients, print one JSON line, then hold
                                        them until stdin reaches EOF (or SIGTERM/SIGINT)
    idle-clients.py --port P --serve N  connect N clients, then send 'SELECT 1' on every
                                        one at once and read each to ReadyForQuery; print
                                        one JSON line (add --hold to keep them open after,
                                        until stdin EOF, like --idle)

Connections are opened non-blocking, at most --batch handshakes in flight at a time, and
driven by one selector: TCP connect, StartupMessage (protocol 3.0), md5 or cleartext
password, then ParameterStatus/BackendKeyData until ReadyForQuery. An ErrorResponse is
recorded (its message, counted) and that connection is closed. Standard library only.
"""

import argparse
import errno
import hashlib
import json
import selectors
import signal
import socket
import struct
import sys
import time

try:
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None

# Connection states.
CONNECTING, STARTUP, READY, QUERY, DONE, FAILED = range(6)


class Conn:
    __slots__ = ("sock", "state", "buf", "out", "rows", "error", "complete")

    def __init__(self, sock):
        self.sock = sock
        self.state = CONNECTING
        self.buf = bytearray()
        self.out = bytearray()
        self.rows = []  # first column of each DataRow of the current query
        self.error = None
        self.complete = False  # CommandComplete seen for the current query


def startup_message(user, database):
    body = struct.pack("!i", 196608)  # protocol 3.0
    for k, v in (("user", user), ("database", database), ("application_name", "idle-clients")):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def message(tag, payload):
    return tag + struct.pack("!i", len(payload) + 4) + payload


def md5_password(user, password, salt):
    inner = hashlib.md5((password + user).encode()).hexdigest()
    return "md5" + hashlib.md5(inner.encode() + salt).hexdigest()


def error_text(payload):
    """The 'M' (message) field of an ErrorResponse, with its SQLSTATE."""
    fields = {}
    for part in bytes(payload).split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return "%s %s" % (fields.get("C", "?????"), fields.get("M", "(no message)"))


class Clients:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.conns = []
        self.errors = {}
        self.busy = 0  # connections in a state that still needs the selector

    # ---- bookkeeping -------------------------------------------------------------

    def fail(self, c, why):
        if c.state in (DONE, FAILED):
            return
        c.error = why
        self.errors[why] = self.errors.get(why, 0) + 1
        if c.state in (CONNECTING, STARTUP, QUERY):
            self.busy -= 1
        c.state = FAILED
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()

    def settle(self, c, state):
        """A connection reached READY (idle) or DONE (answered its query)."""
        c.state = state
        self.busy -= 1
        self.sel.modify(c.sock, selectors.EVENT_READ, c)

    def want(self, c):
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.out else 0)
        self.sel.modify(c.sock, ev, c)

    # ---- opening -----------------------------------------------------------------

    def open_one(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = Conn(s)
        self.conns.append(c)
        self.busy += 1
        err = s.connect_ex((self.args.host, self.args.port))
        if err not in (0, errno.EINPROGRESS):
            self.errors_connect(c, err)
            return
        c.out += startup_message(self.args.user, self.args.database)
        self.sel.register(s, selectors.EVENT_WRITE, c)

    def errors_connect(self, c, err):
        self.fail(c, "connect: " + errno.errorcode.get(err, str(err)))

    # ---- I/O ---------------------------------------------------------------------

    def on_event(self, c, mask):
        if c.state == CONNECTING and mask & selectors.EVENT_WRITE:
            err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.errors_connect(c, err)
                return
            c.state = STARTUP
        if mask & selectors.EVENT_WRITE and c.out:
            try:
                n = c.sock.send(c.out)
                del c.out[:n]
            except BlockingIOError:
                pass
            except OSError as e:
                self.fail(c, "send: " + (errno.errorcode.get(e.errno) or str(e)))
                return
        if mask & selectors.EVENT_READ:
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                data = None
            except OSError as e:
                self.fail(c, "recv: " + (errno.errorcode.get(e.errno) or str(e)))
                return
            if data == b"":
                self.fail(c, "closed by the server" + (" while idle" if c.state == READY else ""))
                return
            if data:
                c.buf += data
                self.parse(c)
                if c.state == FAILED:
                    return
        if c.state in (STARTUP, QUERY):
            self.want(c)

    def parse(self, c):
        buf = c.buf
        pos = 0
        while len(buf) - pos >= 5:
            tag = buf[pos : pos + 1]
            (length,) = struct.unpack_from("!i", buf, pos + 1)
            if len(buf) - pos < 1 + length:
                break
            payload = memoryview(buf)[pos + 5 : pos + 1 + length]
            pos += 1 + length
            try:
                self.handle(c, tag, payload)
            finally:
                payload.release()
            if c.state == FAILED:
                return
        del buf[:pos]

    def handle(self, c, tag, p):
        if tag == b"E":
            self.fail(c, error_text(p))
        elif tag == b"R":
            (code,) = struct.unpack_from("!i", p, 0)
            if code == 0:
                pass  # AuthenticationOk
            elif code == 5:  # AuthenticationMD5Password
                salt = bytes(p[4:8])
                pw = md5_password(self.args.user, self.args.password, salt)
                c.out += message(b"p", pw.encode() + b"\0")
            elif code == 3:  # AuthenticationCleartextPassword
                c.out += message(b"p", self.args.password.encode() + b"\0")
            else:
                self.fail(c, "unsupported authentication request %d" % code)
        elif tag == b"Z":
            if c.state == STARTUP:
                self.settle(c, READY)
            elif c.state == QUERY:
                self.settle(c, DONE)
        elif tag == b"D" and c.state == QUERY:
            (ncols,) = struct.unpack_from("!h", p, 0)
            if ncols >= 1:
                (n,) = struct.unpack_from("!i", p, 2)
                c.rows.append(None if n < 0 else bytes(p[6 : 6 + n]))
        elif tag == b"C" and c.state == QUERY:
            c.complete = True
        # ParameterStatus 'S', BackendKeyData 'K', RowDescription 'T', NoticeResponse 'N'
        # and the rest need nothing.

    def run_until_settled(self, deadline):
        """Drive the selector until no connection is still handshaking or querying."""
        while self.busy > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                for c in self.conns:
                    if c.state in (CONNECTING, STARTUP, QUERY):
                        self.fail(c, "timed out (state %d)" % c.state)
                break
            for key, mask in self.sel.select(timeout=min(left, 1.0)):
                self.on_event(key.data, mask)

    # ---- phases --------------------------------------------------------------------

    def connect(self, n):
        deadline = time.monotonic() + self.args.timeout
        opened = 0
        while opened < n or self.busy > 0:
            while opened < n and self.busy < self.args.batch:
                self.open_one()
                opened += 1
            if time.monotonic() >= deadline:
                self.run_until_settled(deadline)
                break
            for key, mask in self.sel.select(timeout=0.5):
                self.on_event(key.data, mask)
        return sum(1 for c in self.conns if c.state == READY)

    def query_all(self, sql):
        q = message(b"Q", sql.encode() + b"\0")
        for c in self.conns:
            if c.state == READY:
                c.state = QUERY
                c.rows = []
                c.complete = False
                c.out += q
                self.busy += 1
                self.want(c)
        self.run_until_settled(time.monotonic() + self.args.timeout)

    def close_all(self):
        for c in self.conns:
            if c.state in (READY, DONE):
                try:
                    c.sock.send(message(b"X", b""))  # Terminate
                except OSError:
                    pass
            if c.state != FAILED:
                try:
                    self.sel.unregister(c.sock)
                except (KeyError, ValueError):
                    pass
                c.sock.close()


def raise_nofile():
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def hold():
    """Keep the connections open until stdin is closed or a signal arrives."""

    def interrupt(*_):
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, interrupt)
    try:
        while sys.stdin.buffer.read1(4096):
            pass
    except (OSError, KeyboardInterrupt):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--idle", type=int, metavar="N", help="connect N clients and hold them")
    mode.add_argument("--serve", type=int, metavar="N", help="connect N clients, one SELECT 1 each")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="app")
    ap.add_argument("--password", default="app")
    ap.add_argument("--database", default="postgres")
    ap.add_argument("--batch", type=int, default=256, help="handshakes in flight at once")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per phase")
    ap.add_argument("--hold", action="store_true", help="--serve: keep clients open until stdin EOF")
    args = ap.parse_args()

    nofile = raise_nofile()
    n = args.idle if args.idle is not None else args.serve
    cl = Clients(args)
    t0 = time.monotonic()
    connected = cl.connect(n)
    t_connect = time.monotonic() - t0
    out = {
        "mode": "idle" if args.idle is not None else "serve",
        "requested": n,
        "connected": connected,
        "connect_seconds": round(t_connect, 3),
        "nofile": nofile,
    }
    if args.serve is not None:
        t1 = time.monotonic()
        cl.query_all("SELECT 1")
        t_query = time.monotonic() - t1
        served = sum(1 for c in cl.conns if c.state == DONE and c.complete and c.rows == [b"1"])
        answered = sum(1 for c in cl.conns if c.state == DONE)
        out.update(
            served=served,
            answered_wrong=answered - served,
            query_seconds=round(t_query, 3),
            total_seconds=round(time.monotonic() - t0, 3),
        )
        out["still_open"] = sum(1 for c in cl.conns if c.state in (READY, DONE))
    out["failed"] = sum(1 for c in cl.conns if c.state == FAILED)
    out["errors"] = cl.errors
    print(json.dumps(out), flush=True)
    if args.idle is not None or args.hold:
        hold()
    cl.close_all()


if __name__ == "__main__":
    main()
