#!/usr/bin/env python3
"""Keep the one control connection a baresip (ctrl_tcp module) allows.

usage: bsctl.py CTRL_PORT EVENT_LOG CMD_FIFO

Connects to baresip's ctrl_tcp on 127.0.0.1:CTRL_PORT (retrying for up to
15 s while baresip starts), then:
- every netstring baresip sends (events and command responses, JSON) is
  appended to EVENT_LOG as one line, flushed at once, so the test can wait
  on it with grep;
- every line written to CMD_FIFO ("dial sip:x@y", "hangup", "reginfo")
  is sent as the command {"command": WORD, "params": REST, "token": N}.
ctrl_tcp serves a single connection (a new one replaces the old), so the
tests' commands and the event stream must share this one.
Exits when baresip closes the connection."""
import json
import os
import select
import socket
import sys
import time


def netstring(data):
    return b'%d:%s,' % (len(data), data)


def take_netstrings(buf):
    """Complete netstrings off the front of buf: (list, rest)."""
    out = []
    while True:
        colon = buf.find(b':')
        if colon < 0 or not buf[:colon].isdigit():
            return out, buf
        n = int(buf[:colon])
        end = colon + 1 + n
        if len(buf) < end + 1:
            return out, buf
        out.append(buf[colon + 1:end])
        buf = buf[end + 1:]


def connect(port):
    deadline = time.monotonic() + 15
    while True:
        try:
            return socket.create_connection(('127.0.0.1', port), timeout=2)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main():
    port, logpath, fifopath = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    # O_RDWR: the FIFO never reports EOF when a writer (echo) closes it
    fifo = os.open(fifopath, os.O_RDWR | os.O_NONBLOCK)
    sock = connect(port)
    sock.settimeout(None)
    log = open(logpath, 'a', buffering=1)
    log.write('{"bsctl": "connected"}\n')
    buf, cmdbuf, token = b'', b'', 0
    while True:
        ready, _, _ = select.select([sock, fifo], [], [])
        if sock in ready:
            data = sock.recv(65536)
            if not data:
                log.write('{"bsctl": "closed"}\n')
                return 0
            buf += data
            msgs, buf = take_netstrings(buf)
            for m in msgs:
                log.write(m.decode('utf-8', 'replace').replace('\n', ' ') + '\n')
        if fifo in ready:
            cmdbuf += os.read(fifo, 4096)
            while b'\n' in cmdbuf:
                line, cmdbuf = cmdbuf.split(b'\n', 1)
                words = line.decode().strip().split(None, 1)
                if not words:
                    continue
                token += 1
                cmd = {'command': words[0],
                       'params': words[1] if len(words) > 1 else '',
                       'token': str(token)}
                log.write(json.dumps({'bsctl': 'sent', 'cmd': cmd}) + '\n')
                sock.sendall(netstring(json.dumps(cmd).encode()))


if __name__ == '__main__':
    sys.exit(main())
