#!/usr/bin/env python3
"""Both ends of one non-INVITE transaction over UDP through the proxy, to
see how it treats retransmissions of the request (RFC 3261 17.2.2).

usage: nitx.py after|before|cancel|lossy|proceeding|othermethod PROXYPORT
               UACPORT UASPORT METHOD

The UAC (127.0.0.1:UACPORT, or NITX_HOST) sends METHOD for sip:bob@127.0.0.1:UASPORT to
the proxy; the UAS (127.0.0.1:UASPORT) answers 200 OK with To tag "uas-N"
(N counts the requests it received).
  after:  the UAS answers at once; once the UAC has its 200 it sends the
          very same request twice more (same branch), 100 ms apart.
  before: the UAS answers after 400 ms; meanwhile the UAC sends the same
          request again at 50, 100 and 150 ms.
  cancel: as after, then a CANCEL for the request (same branch).
Towards the UAS (the proxy's client transaction, RFC 3261 17.1.2), the UAC
sends once:
  lossy:      the UAS drops the first two copies it gets and answers the
              third, then sends that 200 twice more (100 ms apart).
  proceeding: the UAS answers the first copy 100 Trying, drops the second
              and answers the third.
  othermethod: the UAS first sends a 200 with the request's branch but
              another method in its CSeq (it matches no transaction, RFC
              3261 17.1.3: dropped), then 100 ms later the right 200.
The UAC's own copies of its request (after, before, cancel) carry a
"Subject: copy N" header (N from 2): RFC 3261 17.2.3 matches a
retransmission by branch, sent-by and method only, and the proxy's branch
towards the UAS is derived from the incoming one, so without a mark a
second forwarding would look like the proxy's Timer E copy. The proxy
resends its own copy byte for byte (Timer E, when the UAS, descheduled on a
loaded machine, answered after T1): one request, answered again the same.
Each wait is bounded polling on what it waits for (10 s), never a bet on a
fast machine. Times are the kernel's arrival times (SO_TIMESTAMPNS), not
when this script got round to reading.
Prints one line per fact, "name value", for the test to check:
  uas_got N        distinct requests the UAS received (copies of one not
                   counted again)
  uac_final N      final responses the UAC received
  uac_tags T,T     their To tags, in order
  uac_same 0|1     all final responses byte for byte the same
  cancel STATUS    (cancel) the status of the CANCEL's response
  uac_other N      final responses the UAC received for another method
  uas_copies N     (lossy, proceeding) copies the UAS got before the proxy
                   relayed the 200 (one resent as the 200 was on its way
                   is fine)
  uas_late N       (lossy, proceeding) copies after it relayed the 200
  uas_gaps MS,MS   (lossy, proceeding) ms between the first three copies
  uas_copies_same 0|1  those copies byte for byte the same
"""
import os
import random
import re
import socket
import struct
import sys
import time

# NITX_HOST=::1 runs all three over IPv6 (the proxy listening there).
HOST = os.environ.get('NITX_HOST', '127.0.0.1')
FAMILY = socket.AF_INET6 if ':' in HOST else socket.AF_INET
URIHOST = '[%s]' % HOST if ':' in HOST else HOST
SO_TIMESTAMPNS = 35  # Linux; Python does not name it
WAIT = 10.0          # the bound of every wait on a condition


def header(msg, name, short):
    m = re.search(rb'(?im)^(?:' + name + rb'|' + short + rb')[ \t]*:[ \t]*(.*)$',
                  msg)
    return m.group(1).strip() if m else b''


def status(msg):
    m = re.match(rb'SIP/2\.0 (\d{3})', msg)
    return int(m.group(1)) if m else 0


def request(method, uac, uas, branch, callid, copy=1):
    mark = 'Subject: copy %d\r\n' % copy if copy > 1 else ''
    return ('%s sip:bob@%s:%d SIP/2.0\r\n'
            'Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n'
            'Max-Forwards: 70\r\n%s'
            'From: <sip:alice@127.0.0.1>;tag=uac\r\n'
            'To: <sip:bob@127.0.0.1>\r\n'
            'Call-ID: %s\r\n'
            'CSeq: 2 %s\r\n'
            'Content-Length: 0\r\n\r\n'
            % (method, URIHOST, uas, URIHOST, uac, branch, mark, callid,
               method)).encode()


def ok(req, n, line=b'SIP/2.0 200 OK'):
    """200 OK copying the request's Via, From, To (tagged), Call-ID, CSeq."""
    head = req.split(b'\r\n\r\n', 1)[0].split(b'\r\n')[1:]
    out = [line]
    for line in head:
        name = line.split(b':', 1)[0].strip().lower()
        if name in (b'via', b'v', b'from', b'f', b'call-id', b'i', b'cseq'):
            out.append(line)
        elif name in (b'to', b't'):
            out.append(line + b';tag=uas-%d' % n)
    out.append(b'Content-Length: 0')
    return b'\r\n'.join(out) + b'\r\n\r\n'


def other_method(resp, method):
    """resp with another method than method in its CSeq."""
    other = b'OPTIONS' if method != b'OPTIONS' else b'MESSAGE'
    return re.sub(rb'(?im)^(CSeq:[ \t]*\d+[ \t]+)\S+', rb'\g<1>' + other,
                  resp, count=1)


def stamped(s):
    """A UDP socket whose datagrams carry their kernel arrival time."""
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    return s


def receive(s):
    """(data, addr, arrival time in s) of one datagram, or None."""
    try:
        data, anc, _, addr = s.recvmsg(65535, 64)
    except socket.timeout:
        return None
    when = time.time()
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack('qq', value[:16])
            when = sec + nsec / 1e9
    return data, addr, when


class Ends:
    def __init__(self, proxy, uac, uas):
        self.proxy = (HOST, proxy)
        self.uac = stamped(socket.socket(FAMILY, socket.SOCK_DGRAM))
        self.uac.bind((HOST, uac))
        self.uas = stamped(socket.socket(FAMILY, socket.SOCK_DGRAM))
        self.uas.bind((HOST, uas))
        self.requests = []  # each distinct request the UAS got (bytes)
        self.pending = []   # (when, bytes, addr) answers the UAS will send
        self.finals = []    # (arrival, bytes) of the UAC's final responses
        self.other = []     # responses to other requests (the CANCEL)
        self.delay = 0.0
        self.copies = []    # (arrival, bytes) each copy the UAS got
        # n, request -> the responses the UAS sends to the n-th copy it
        # got (lossy, proceeding); by default its n-th distinct request
        # is answered, each copy of it the same
        self.answer = None

    def pump(self, seconds, cseq_method=None, until=None):
        """Run both ends for a while, or (until) as soon as until() holds,
        for at most seconds."""
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            for p in [p for p in self.pending if p[0] <= now]:
                self.uas.sendto(p[1], p[2])
                self.pending.remove(p)
            if now >= end or (until is not None and until()):
                return
            for s in (self.uas, self.uac):
                s.settimeout(0.01)
                got = receive(s)
                if got is None:
                    continue
                data, addr, when = got
                if s is self.uas and data[:8] != b'SIP/2.0 ':
                    self.copies.append((when, data))
                    if data not in self.requests:
                        self.requests.append(data)
                    if self.answer is not None:
                        out = self.answer(len(self.copies), data)
                    else:
                        out = [ok(data, self.requests.index(data) + 1)]
                    for i, r in enumerate(out):
                        self.pending.append((now + self.delay + 0.1 * i,
                                             r, addr))
                elif s is self.uac and status(data) >= 200:
                    cseq = header(data, b'cseq', b'x')
                    if cseq_method and cseq.endswith(cseq_method):
                        self.finals.append((when, data))
                    else:
                        self.other.append(data)

    def send(self, data):
        self.uac.sendto(data, self.proxy)


def main():
    mode, proxy, uac, uas, method = (sys.argv[1], int(sys.argv[2]),
                                     int(sys.argv[3]), int(sys.argv[4]),
                                     sys.argv[5])
    e = Ends(proxy, uac, uas)
    branch = 'z9hG4bK-nitx-%08x' % random.getrandbits(32)
    callid = 'nitx-%08x@127.0.0.1' % random.getrandbits(32)
    req = request(method, uac, uas, branch, callid)
    m = method.encode()
    finals = lambda n: (lambda: len(e.finals) >= n)
    if mode == 'othermethod':
        e.answer = lambda n, r: ([other_method(ok(r, n), m), ok(r, n)]
                                 if n == 1 else [ok(r, n)])
        e.send(req)
        e.pump(WAIT, m, finals(1))
        e.pump(1.0, m)  # for the stray, had it been relayed after all
    elif mode in ('lossy', 'proceeding'):
        if mode == 'lossy':
            e.answer = lambda n, r: [ok(r, n)] * 3 if n == 3 else []
        else:
            e.answer = lambda n, r: ([ok(r, n, b'SIP/2.0 100 Trying')]
                                     if n == 1 else [ok(r, n)] if n == 3
                                     else [])
        e.send(req)
        # the 200 comes after Timer E's 0.5 + 1 s (lossy), 0.5 + 4 s
        # (proceeding); then a while for the UAS's copies of it, and for
        # a copy of the request the proxy should no longer send
        e.pump(WAIT + 5, m, finals(1))
        e.pump(2.5 if mode == 'lossy' else 0.5, m)
    elif mode == 'before':
        e.delay = 0.4
        e.send(req)
        for copy in range(2, 5):
            e.pump(0.05, m)
            e.send(request(method, uac, uas, branch, callid, copy))
        e.pump(WAIT, m, finals(1))
        e.pump(1.0, m)
    else:
        e.send(req)
        e.pump(WAIT, m, finals(1))
        for copy in range(2, 4):
            e.send(request(method, uac, uas, branch, callid, copy))
            e.pump(0.1, m)
        if mode == 'cancel':
            e.send(request('CANCEL', uac, uas, branch, callid))
        e.pump(WAIT, m, lambda: len(e.finals) >= 3 and
               (mode != 'cancel' or e.other))
        e.pump(1.0, m)
    tags = [header(f, b'to', b't').split(b'tag=')[-1].decode()
            for _, f in e.finals]
    print('uas_got %d' % len(e.requests))
    print('uac_final %d' % len(e.finals))
    print('uac_tags %s' % ','.join(tags))
    print('uac_same %d' % int(len(set(f for _, f in e.finals)) == 1))
    if mode == 'cancel':
        print('cancel %s' % (status(e.other[0]) if e.other else 'none'))
    print('uac_other %d' % len(e.other))
    if mode in ('lossy', 'proceeding'):
        relayed = e.finals[0][0] if e.finals else float('inf')
        print('uas_copies %d' % sum(1 for c in e.copies if c[0] <= relayed))
        print('uas_late %d' % sum(1 for c in e.copies if c[0] > relayed))
        t = [c[0] for c in e.copies[:3]]
        print('uas_gaps %s' % ','.join('%d' % ((b - a) * 1000)
                                       for a, b in zip(t, t[1:])))
        print('uas_copies_same %d' % int(len(set(c[1] for c in e.copies)) == 1))


if __name__ == '__main__':
    main()
