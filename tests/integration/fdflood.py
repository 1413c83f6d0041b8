#!/usr/bin/env python3
"""Hold TCP connections to the proxy open, as many as it takes.

usage: fdflood.py PORT COUNT SECONDS [SOURCE]
Opens COUNT connections to 127.0.0.1:PORT one after the other (sending
nothing; from the address SOURCE, 127.0.0.1 by default), holds them SECONDS, then closes them all. Prints
"connected N" once all are made (the kernel's backlog takes them; the
proxy has them to accept from then on), "open N" (connections still open
at the end: the proxy did not close them) and "closed N" (closed by the proxy while held: read end-of-stream
or a reset). Waits for the proxy's side, never for a fixed time alone.
"""
import selectors
import socket
import sys
import time


def main():
    port, count, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    src = sys.argv[4] if len(sys.argv) > 4 else '127.0.0.1'
    held = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect(('127.0.0.1', port))  # the kernel's backlog accepts it
        s.setblocking(False)
        held.append(s)
    print('connected %d' % len(held))
    sys.stdout.flush()
    sel = selectors.DefaultSelector()
    for s in held:
        sel.register(s, selectors.EVENT_READ)
    closed = set()
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.1):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b''
            if not data:
                closed.add(key.fileobj)
                sel.unregister(key.fileobj)
    print('open %d' % (len(held) - len(closed)))
    print('closed %d' % len(closed))
    sys.stdout.flush()
    for s in held:
        s.close()


if __name__ == '__main__':
    main()
