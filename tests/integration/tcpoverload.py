#!/usr/bin/env python3
"""A caller over TCP (or TLS) and a callee over UDP around a proxy, for
overload control of requests that came over a stream (t_overload_tcp.sh):
they carry no queue delay and are judged by how long their connection has
been backed up, or how long the proxy's loop has gone without catching up
with its input.

usage:
  tcpoverload.py [--tls] backlog PXPORT CALLEEPORT PXPID N
      Call B (caller on TCP, callee on UDP) is answered and ACKed. Then
      the proxy is stopped (SIGSTOP); meanwhile N new MESSAGEs and, after
      them, B's BYE are written on the caller's TCP connection (they wait
      in the socket buffers); then the proxy goes on (SIGCONT) and works
      through them without a break.
  tcpoverload.py [--tls] call PXPORT CALLEEPORT
      One whole call over TCP: INVITE, 180, 200, ACK, BYE, 200.
  --tls: the caller's connection is TLS (the proxy's certificate is not
  checked: the test is of overload control).
Prints "name value" facts, one a line."""
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overload import Callee, Responses, fact, hdr, request, status  # noqa

H = '127.0.0.1'


class TcpCaller(Responses):
    TIMEOUT = 10.0

    def __init__(self, pxport, callee_port, tls=False):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # room for the whole backlog while the proxy is stopped
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        self.s.connect((H, pxport))
        self.tp = 'TCP'
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.s = ctx.wrap_socket(self.s)
            self.tp = 'TLS'
        self.port = self.s.getsockname()[1]
        self.ruri = 'sip:bob@%s:%d' % (H, callee_port)
        self.n = 0
        self.buf = b''
        self.resp = []

    def make(self, m, cid, cseq=1, to_tag=None, ruri=None, route=None,
             body=''):
        self.n += 1
        via = ('SIP/2.0/%s %s:%d;branch=z9hG4bK-tov-%d-%d'
               % (self.tp, H, self.port, os.getpid(), self.n))
        return request(m, ruri or self.ruri, self.ruri, via,
                       'sip:alice@%s:%d;transport=%s'
                       % (H, self.port, self.tp.lower()), cid,
                       cseq, to_tag, route, body)

    def send(self, *a, **k):
        self.s.sendall(self.make(*a, **k))

    def pump(self, timeout):
        """Read what comes within timeout, then all that is there;
        responses go to self.resp. (Over TLS a read returns one record,
        one response here: reading one per pass made the caller's own
        work quadratic, and it fell behind the proxy's answers.)"""
        self.s.settimeout(timeout)
        try:
            data = self.s.recv(1 << 20)
        except socket.timeout:
            return False
        if not data:
            return False
        self.s.settimeout(0)
        while True:
            try:
                more = self.s.recv(1 << 20)
            except (BlockingIOError, ssl.SSLWantReadError, socket.timeout):
                break
            if not more:
                break
            data += more
        self.buf += data
        while True:
            head, sep, rest = self.buf.partition(b'\r\n\r\n')
            if not sep:
                break
            m = re.search(rb'(?im)^content-length[ \t]*:[ \t]*(\d+)', head)
            n = int(m.group(1)) if m else 0
            if len(rest) < n:
                break
            msg = (head + sep + rest[:n]).decode('latin-1')
            self.buf = rest[n:]
            if msg.startswith('SIP/2.0'):
                self.resp.append(msg)
        return True

    receive = pump


def dialog(ok):
    tag = re.search(r';tag=([^;>\s]+)', hdr(ok, 'To')).group(1)
    rr = ', '.join(reversed(re.findall(r'(?im)^record-route[ \t]*:[ \t]*(.*?)\r$',
                                       ok)))
    target = re.search(r'<([^>]+)>', hdr(ok, 'Contact')).group(1)
    return tag, rr or None, target


def call(caller, cid):
    caller.send('INVITE', cid)
    ok = caller.final(cid)
    if ok is None or status(ok) != 200:
        return None, ok
    tag, rr, target = dialog(ok)
    caller.send('ACK', cid, to_tag=tag, ruri=target, route=rr)
    return (tag, rr, target), ok


def backlog(caller, callee, pid, n):
    d, ok = call(caller, 'ok-B')
    fact('b_final', status(ok) if ok else 'none')
    if d is None:
        return
    tag, rr, target = d
    data = b''.join(caller.make('MESSAGE', 'new-%d' % i, body='hello')
                    for i in range(n))
    data += caller.make('BYE', 'ok-B', cseq=2, to_tag=tag, ruri=target,
                        route=rr)
    os.kill(pid, signal.SIGSTOP)
    try:
        w = threading.Thread(target=caller.s.sendall, args=(data,))
        w.start()
        time.sleep(0.5)
    finally:
        os.kill(pid, signal.SIGCONT)
    w.join()
    bye = caller.final('ok-B', 'BYE', timeout=30)
    fact('b_bye', status(bye) if bye else 'none')
    # every MESSAGE gets its final answer (503 from us, 200 from the callee)
    deadline = time.monotonic() + 30
    finals = {}
    while len(finals) < n and time.monotonic() < deadline:
        for r in caller.resp:
            cid = hdr(r, 'Call-ID')
            if cid.startswith('new-') and status(r) >= 200:
                finals[cid] = r
        if len(finals) < n:
            caller.pump(0.5)
    shed = [r for r in finals.values() if status(r) == 503]
    fact('messages_answered', len(finals))
    fact('messages_503', len(shed))
    fact('messages_200', sum(1 for r in finals.values() if status(r) == 200))
    fact('retry_after', hdr(shed[0], 'Retry-After') if shed else 'none')
    # the first ones, read before the loop had been busy long, got through
    fact('first_final', status(finals['new-0']) if 'new-0' in finals
         else 'none')
    time.sleep(0.3)
    fact('callee_messages', callee.count('MESSAGE'))
    fact('callee_bye', callee.count('BYE', 'ok-B'))


def main():
    args = sys.argv[1:]
    tls = args[0] == '--tls'
    if tls:
        args = args[1:]
    mode = args[0]
    pxport, eport = int(args[1]), int(args[2])
    callee = Callee(eport)
    callee.start()
    caller = TcpCaller(pxport, eport, tls)
    if mode == 'backlog':
        backlog(caller, callee, int(args[3]), int(args[4]))
    else:
        d, ok = call(caller, 'ok-E')
        fact('e_final', status(ok) if ok else 'none')
        if d:
            tag, rr, target = d
            caller.send('BYE', 'ok-E', cseq=2, to_tag=tag, ruri=target,
                        route=rr)
            r = caller.final('ok-E', 'BYE')
            fact('e_bye', status(r) if r else 'none')


if __name__ == '__main__':
    main()
