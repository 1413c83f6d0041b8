#!/usr/bin/env python3
"""Caller and callee over UDP around a proxy, for its overload control
(t_overload.sh). The callee (127.0.0.1:CALLEEPORT) answers an INVITE whose
Call-ID starts with "ring-" with 180 and holds it (a CANCEL gets 200 and
the INVITE 487), one starting with "ok-" with 180 and 200; BYE and other
requests 200; it records every request it gets.

usage:
  overload.py stall PXPORT CALLERPORT CALLEEPORT PXPID
      Call A rings, call B is answered (not yet ACKed). Then the proxy is
      stopped (SIGSTOP), and while it is stopped the caller sends B's ACK
      and BYE, a CANCEL for A, a new INVITE C (its Via names another port,
      with rport: the answer must come back to the source port) and a new
      MESSAGE D; 2.5 s later the proxy goes on (SIGCONT).
  cap PXPORT CALLERPORT CALLEEPORT
      max_in_flight = 2: calls A and B ring (held), INVITE C, a BYE in a
      dialog, a CANCEL for A; then, A being over, INVITE D; then B and D
      are refused by the callee (486) and ACKed.
  call PXPORT CALLERPORT CALLEEPORT
      One whole call: INVITE, 180, 200, ACK, BYE, 200.
Prints "name value" facts, one a line."""
import os
import re
import signal
import socket
import sys
import threading
import time

H = '127.0.0.1'


def hdr(msg, name):
    m = re.search(r'(?im)^%s[ \t]*:[ \t]*(.*?)\r$' % name, msg)
    return m.group(1) if m else None


def status(msg):
    return int(msg.split(' ', 2)[1]) if msg.startswith('SIP/2.0') else None


def method(msg):
    return None if msg.startswith('SIP/2.0') else msg.split(' ', 1)[0]


def cseq_method(msg):
    return (hdr(msg, 'CSeq') or ' ').split()[-1]


def build(first, headers, body=''):
    lines = [first] + headers + ['Content-Length: %d' % len(body), '', body]
    return '\r\n'.join(lines).encode()


def request(m, ruri, to_uri, via, contact, cid, cseq=1, to_tag=None,
            route=None, body=''):
    """A caller's request: the same for the UDP and the TCP callers."""
    heads = ['Via: ' + via, 'Max-Forwards: 70',
             'From: <sip:alice@example.com>;tag=caller-' + cid,
             'To: <%s>%s' % (to_uri, ';tag=' + to_tag if to_tag else ''),
             'Call-ID: ' + cid, 'CSeq: %d %s' % (cseq, m),
             'Contact: <%s>' % contact]
    if route:
        heads.append('Route: ' + route)
    if body:
        heads.append('Content-Type: text/plain')
    return build('%s %s SIP/2.0' % (m, ruri), heads, body)


class Callee(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((H, port))
        self.port = port
        self.got = []        # (method, call-id) of each request
        self.held = {}       # call-id -> INVITE held ringing
        self.lock = threading.Lock()

    def reply(self, req, code, phrase, tag='callee', extra=()):
        heads = [l for l in req.split('\r\n')[1:]
                 if re.match(r'(?i)(via|record-route|from|call-id|cseq)\s*:', l)]
        to = hdr(req, 'To')
        if code > 100 and ';tag=' not in to:
            to += ';tag=' + tag
        heads.append('To: ' + to)
        heads += ['Contact: <sip:callee@%s:%d>' % (H, self.port)] + list(extra)
        self.s.sendto(build('SIP/2.0 %d %s' % (code, phrase), heads),
                      self.src)

    def run(self):
        while True:
            data, self.src = self.s.recvfrom(65535)
            msg = data.decode('latin-1')
            m = method(msg)
            if m is None:
                continue
            cid = hdr(msg, 'Call-ID')
            with self.lock:
                self.got.append((m, cid))
            if m == 'INVITE':
                self.reply(msg, 180, 'Ringing')
                if cid.startswith('ok-'):
                    self.reply(msg, 200, 'OK')
                else:
                    with self.lock:
                        self.held[cid] = (msg, self.src)
            elif m == 'CANCEL':
                self.reply(msg, 200, 'OK')
                with self.lock:
                    inv = self.held.pop(cid, None)
                if inv:
                    self.src = inv[1]
                    self.reply(inv[0], 487, 'Request Terminated')
            elif m != 'ACK':
                self.reply(msg, 200, 'OK')

    def refuse(self, cid):
        with self.lock:
            inv = self.held.pop(cid, None)
        if inv:
            self.src = inv[1]
            self.reply(inv[0], 486, 'Busy Here')

    def methods(self, cid):
        """The methods of the distinct requests of call cid, in the order
        they first came: a retransmission by the proxy (its Timer E, when
        the callee was slow to answer on a loaded machine) is not another
        request."""
        with self.lock:
            seen = []
            for m, c in self.got:
                if c == cid and m not in seen:
                    seen.append(m)
            return ','.join(seen)

    def count(self, m, cid=None):
        """Distinct requests (method, Call-ID) received: the proxy's
        retransmissions over UDP to a callee slow to answer (a loaded
        machine, ASan) are one request."""
        with self.lock:
            return len(set(g for g in self.got
                           if g[0] == m and (cid is None or g[1] == cid)))


class Responses:
    """What a caller does with its responses, whatever the transport:
    self.resp holds those received, in order; self.receive(timeout) waits
    up to timeout for more and adds them. Shared by Caller (UDP) and
    tcpoverload.py's TcpCaller (TCP), which differ in how they read and in
    how long they wait by default (TIMEOUT)."""
    TIMEOUT = 5.0

    def wait(self, cid, m, pred, timeout=None):
        """The first response for (call-id, CSeq method) matching pred."""
        deadline = time.monotonic() + (self.TIMEOUT if timeout is None
                                       else timeout)
        while True:
            for r in self.resp:
                if hdr(r, 'Call-ID') == cid and cseq_method(r) == m and pred(r):
                    return r
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.receive(left)

    def final(self, cid, m='INVITE', timeout=None):
        return self.wait(cid, m, lambda r: status(r) >= 200, timeout)


class Caller(Responses):
    def __init__(self, pxport, port, callee_port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((H, port))
        self.px = (H, pxport)
        self.port = port
        self.ruri = 'sip:bob@%s:%d' % (H, callee_port)
        self.n = 0
        self.resp = []       # every response received, in order

    def request(self, m, cid, branch=None, cseq=1, to_tag=None, via_port=None,
                ruri=None, route=None, body=''):
        self.n += 1
        branch = branch or 'z9hG4bK-ovl-%d-%d' % (os.getpid(), self.n)
        via = 'SIP/2.0/UDP %s:%d;branch=%s' % (H, via_port or self.port,
                                               branch)
        if via_port:
            via += ';rport'
        self.s.sendto(request(m, ruri or self.ruri, self.ruri, via,
                              'sip:alice@%s:%d' % (H, self.port), cid, cseq,
                              to_tag, route, body), self.px)
        return branch

    def receive(self, timeout):
        """One datagram within timeout, if one comes."""
        self.s.settimeout(timeout)
        try:
            data = self.s.recv(65535)
        except socket.timeout:
            return
        self.resp.append(data.decode('latin-1'))

    def ack(self, resp, branch=None, ruri=None, route=None):
        """ACK for a final response: same branch for a non-2xx."""
        cid = hdr(resp, 'Call-ID')
        to_tag = re.search(r';tag=([^;>\s]+)', hdr(resp, 'To')).group(1)
        return self.request('ACK', cid, branch=branch, to_tag=to_tag,
                            ruri=ruri, route=route)


def fact(name, value):
    print(name, value)
    sys.stdout.flush()


def dialog_of(resp):
    """(to-tag, Route for in-dialog requests, remote target)."""
    to_tag = re.search(r';tag=([^;>\s]+)', hdr(resp, 'To')).group(1)
    rr = hdr(resp, 'Record-Route')
    return to_tag, rr, re.search(r'<([^>]+)>', hdr(resp, 'Contact')).group(1)


def stall(caller, callee, pid):
    caller.request('INVITE', 'ring-A')
    fact('a_ringing', status(caller.wait('ring-A', 'INVITE',
                                         lambda r: status(r) == 180)))
    caller.request('INVITE', 'ok-B')
    ok = caller.final('ok-B')
    fact('b_final', status(ok) if ok else 'none')
    if ok is None:
        return
    tag, rr, target = dialog_of(ok)
    os.kill(pid, signal.SIGSTOP)
    try:
        caller.request('ACK', 'ok-B', to_tag=tag, ruri=target, route=rr)
        caller.request('BYE', 'ok-B', cseq=2, to_tag=tag, ruri=target, route=rr)
        a_branch = 'z9hG4bK-ovl-%d-1' % os.getpid()
        caller.request('CANCEL', 'ring-A', branch=a_branch)
        c_branch = caller.request('INVITE', 'new-C', via_port=caller.port + 7)
        caller.request('MESSAGE', 'new-D', body='hello')
        time.sleep(2.5)
    finally:
        os.kill(pid, signal.SIGCONT)
    c = caller.final('new-C')
    fact('c_final', status(c) if c else 'none')
    if c:
        fact('c_retry_after', hdr(c, 'Retry-After'))
        caller.ack(c, branch=c_branch)
    d = caller.final('new-D', 'MESSAGE')
    fact('d_final', status(d) if d else 'none')
    r = caller.final('ring-A', 'CANCEL')
    fact('a_cancel', status(r) if r else 'none')
    r = caller.final('ring-A')
    fact('a_final', status(r) if r else 'none')
    if r:
        caller.ack(r, branch=a_branch)
    r = caller.final('ok-B', 'BYE')
    fact('b_bye', status(r) if r else 'none')
    time.sleep(0.3)  # the ACKs sent last: anything they made arrives
    fact('callee_b', callee.methods('ok-B'))
    fact('callee_a', callee.methods('ring-A'))
    fact('callee_new', callee.count('INVITE', 'new-C') +
         callee.count('ACK', 'new-C') + callee.count('MESSAGE', 'new-D'))


def cap(caller, callee):
    for cid in ('ring-A', 'ring-B'):
        caller.request('INVITE', cid)
        r = caller.wait(cid, 'INVITE', lambda r: status(r) == 180)
        fact(cid + '_ringing', status(r) if r else 'none')
    c_branch = caller.request('INVITE', 'new-C')
    c = caller.final('new-C')
    fact('c_final', status(c) if c else 'none')
    if c:
        fact('c_retry_after', hdr(c, 'Retry-After'))
        caller.ack(c, branch=c_branch)
    caller.request('BYE', 'dlg-X', cseq=5, to_tag='x1')
    r = caller.final('dlg-X', 'BYE')
    fact('bye_in_dialog', status(r) if r else 'none')
    caller.request('CANCEL', 'ring-A', branch='z9hG4bK-ovl-%d-1' % os.getpid())
    r = caller.final('ring-A', 'CANCEL')
    fact('a_cancel', status(r) if r else 'none')
    r = caller.final('ring-A')
    fact('a_final', status(r) if r else 'none')
    if r:
        caller.ack(r, branch='z9hG4bK-ovl-%d-1' % os.getpid())
    caller.request('INVITE', 'ring-D')
    r = caller.wait('ring-D', 'INVITE', lambda r: status(r) >= 180)
    fact('d_first', status(r) if r else 'none')
    for cid in ('ring-B', 'ring-D'):
        callee.refuse(cid)
        r = caller.final(cid)
        fact(cid + '_final', status(r) if r else 'none')
    time.sleep(0.3)
    fact('callee_new', callee.count('INVITE', 'new-C') +
         callee.count('ACK', 'new-C'))
    fact('callee_bye', callee.count('BYE', 'dlg-X'))


def call(caller, callee):
    caller.request('INVITE', 'ok-E')
    ok = caller.final('ok-E')
    fact('e_final', status(ok) if ok else 'none')
    if ok is None or status(ok) != 200:
        return
    tag, rr, target = dialog_of(ok)
    caller.request('ACK', 'ok-E', to_tag=tag, ruri=target, route=rr)
    caller.request('BYE', 'ok-E', cseq=2, to_tag=tag, ruri=target, route=rr)
    r = caller.final('ok-E', 'BYE')
    fact('e_bye', status(r) if r else 'none')
    fact('callee_e', callee.methods('ok-E'))


def main():
    mode = sys.argv[1]
    pxport, cport, eport = (int(a) for a in sys.argv[2:5])
    callee = Callee(eport)
    callee.start()
    caller = Caller(pxport, cport, eport)
    if mode == 'stall':
        stall(caller, callee, int(sys.argv[5]))
    elif mode == 'cap':
        cap(caller, callee)
    else:
        call(caller, callee)


if __name__ == '__main__':
    main()
