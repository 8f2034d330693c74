#!/usr/bin/env python3
"""A recording TCP relay for seed corpora (fuzz/seed.sh).

Listens on 127.0.0.1:LISTEN, forwards every connection to 127.0.0.1:UPSTREAM, and
writes what each side sent to OUT/<n>.client and OUT/<n>.server (n counts connections
from 0). Stops on SIGTERM.
"""

import os
import selectors
import signal
import socket
import sys


def relay(conn, upstream_port, out_dir, n):
    up = socket.create_connection(("127.0.0.1", upstream_port))
    files = {
        conn: open(os.path.join(out_dir, f"{n:03}.client"), "wb"),
        up: open(os.path.join(out_dir, f"{n:03}.server"), "wb"),
    }
    peer = {conn: up, up: conn}
    sel = selectors.DefaultSelector()
    sel.register(conn, selectors.EVENT_READ)
    sel.register(up, selectors.EVENT_READ)
    open_sides = 2
    while open_sides:
        for key, _ in sel.select():
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                sel.unregister(s)
                open_sides -= 1
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            files[s].write(data)
            peer[s].sendall(data)
    for f in files.values():
        f.close()
    conn.close()
    up.close()


def main():
    listen_port, upstream_port, out_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(16)
    n = 0
    while True:
        conn, _ = srv.accept()
        pid = os.fork()
        if pid == 0:
            srv.close()
            relay(conn, upstream_port, out_dir, n)
            os._exit(0)
        conn.close()
        n += 1


if __name__ == "__main__":
    main()
