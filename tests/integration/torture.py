#!/usr/bin/env python3
"""RFC 4475 torture messages through e2mproxyd, each checked against its
expected outcome (tests/rfc4475/expected).

Runs inside a network namespace of its own (t_rfc4475.sh makes it), where
it is the whole world around the proxy:
- a DNS server on 127.0.0.1:53 that resolves every name to 127.0.0.2
  (NAPTR, SRV, AAAA: no data), so the proxy routes the messages as
  written (RFC 3263) and every next hop is the peer;
- the peer, a UAS on 127.0.0.2:5060 (UDP and TCP) and 127.0.0.1:5080
  (mpart01's strict router): records each message it receives, answers
  INVITE 486 and other requests 200;
- the sender: each message byte-exact from 127.0.0.1 at the port its
  top Via names (5060 when none: where RFC 3261 18.2.2 sends the
  response of a Via without rport), over the transport that Via names
  (nta drops a request whose Via names another one), or over TCP/TLS.
Prints one line per message: "ok NAME: what" or "not ok NAME: why".
usage: torture.py DATDIR EXPECTED PROXY_PORT PROXY_TLS_PORT [NAME...]"""
import re
import select
import socket
import ssl
import struct
import sys
import threading
import time

PEER = '127.0.0.2'
# The options an expected outcome may carry (tests/rfc4475/expected).
OPTIONS = {'absent', 'close', 'code', 'keep', 'lastroute', 'only1', 'ruri',
           'settle', 'to', 'wait'}
TIMER_J = 4.5  # t_rfc4475.sh's transaction_timeout (4 s), and some
STRICT = ('127.0.0.1', 5080)
LOCK = threading.Lock()
RECEIVED = []  # (peer address, transport, bytes, arrival) of every message
               # the peer got; arrival: the kernel's time over UDP
SO_TIMESTAMPNS = 35  # Linux; Python does not name it
# A byte-identical copy this long or longer after the last one is the
# proxy's Timer E/A resend (T1 = 500 ms), not a second forwarding (which
# would come at once: the sender never sends twice). The peer thread may
# be descheduled that long on a loaded machine and answer late.
RESEND_AFTER = 0.4


# ---------------------------------------------------------------- DNS
def dns_answer(q):
    """A for every name is 127.0.0.2; other types NOERROR, no data."""
    if len(q) < 12:
        return None
    qid, flags = struct.unpack('!HH', q[:4])
    i = 12
    while i < len(q) and q[i] != 0:
        i += q[i] + 1
    qend = i + 5
    if qend > len(q):
        return None
    qtype = struct.unpack('!H', q[i + 1:i + 3])[0]
    question = q[12:qend]
    an = b''
    if qtype == 1:
        an = b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 60, 4) + \
            socket.inet_aton(PEER)
    rflags = 0x8180 | (flags & 0x0100)
    return struct.pack('!HHHHHH', qid, rflags, 1, 1 if an else 0, 0, 0) + \
        question + an


def dns_server():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 53))
    while True:
        q, addr = s.recvfrom(4096)
        a = dns_answer(q)
        if a:
            s.sendto(a, addr)


# ---------------------------------------------------------------- SIP
def split_head(msg):
    """(start line, [(name, raw value with folds)], body) of one message."""
    end = msg.find(b'\r\n\r\n')
    head, body = (msg, b'') if end < 0 else (msg[:end], msg[end + 4:])
    lines = head.split(b'\r\n')
    fields = []
    for line in lines[1:]:
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b'\r\n' + line)
        else:
            name, _, value = line.partition(b':')
            fields.append((name.strip().lower(), value))
    return lines[0], fields, body


COMPACT = {b'v': b'via', b'i': b'call-id', b'l': b'content-length',
           b'f': b'from', b't': b'to', b'm': b'contact', b's': b'subject',
           b'c': b'content-type', b'k': b'supported', b'e': b'content-encoding'}


def values(fields, name):
    name = name.lower().encode('latin-1')
    return [v for n, v in fields if COMPACT.get(n, n) == name]


def lws(v):
    """A header value as it means: LWS runs as one SP, trimmed."""
    return re.sub(rb'[ \t]*\r\n[ \t]+|[ \t]+', b' ', v).strip()


def call_id(msg):
    _, fields, _ = split_head(msg)
    v = values(fields, 'call-id')
    return lws(v[0]) if v else None


def frame(buf):
    """Messages off the front of a stream buffer: (messages, rest)."""
    out = []
    while True:
        buf = buf.lstrip(b'\r\n')
        end = buf.find(b'\r\n\r\n')
        if end < 0:
            return out, buf
        m = re.search(rb'(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)',
                      buf[:end])
        total = end + 4 + (int(m.group(1)) if m else 0)
        if len(buf) < total:
            return out, buf
        out.append(buf[:total])
        buf = buf[total:]


def answer(msg):
    """The peer's response to a request, or None (responses, ACK)."""
    start, fields, _ = split_head(msg)
    if start.startswith(b'SIP/') or start.startswith(b'ACK '):
        return None
    code = b'486 Busy Here' if start.startswith(b'INVITE ') else b'200 OK'
    out = [b'SIP/2.0 ' + code]
    for n, v in fields:
        n = COMPACT.get(n, n)
        if n in (b'via', b'from', b'to', b'call-id', b'cseq'):
            v = lws(v)
            if n == b'to' and b'tag=' not in v:
                v += b';tag=peer'
            out.append(n + b': ' + v)
    out.append(b'Content-Length: 0')
    return b'\r\n'.join(out) + b'\r\n\r\n'


def record(addr, tp, msg, when=None):
    with LOCK:
        RECEIVED.append((addr, tp, msg, time.time() if when is None
                         else when))


def peer_udp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    while True:
        msg, anc, _, src = s.recvmsg(65535, 64)
        when = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack('qq', value[:16])
                when = sec + nsec / 1e9
        record(addr, 'udp', msg, when)
        a = answer(msg)
        if a:
            s.sendto(a, src)


def peer_conn(c, addr):
    buf = b''
    while True:
        try:
            chunk = c.recv(65535)
        except OSError:
            return
        if not chunk:
            return
        msgs, buf = frame(buf + chunk)
        for msg in msgs:
            record(addr, 'tcp', msg)
            a = answer(msg)
            if a:
                c.sendall(a)


def peer_tcp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=peer_conn, args=(c, addr), daemon=True).start()


# ---------------------------------------------------------------- sender
def via_port(msg):
    """The port of the top Via's sent-by (5060 when none)."""
    _, fields, _ = split_head(msg)
    v = values(fields, 'via')
    if not v:
        return 5060
    m = re.match(rb'\s*SIP\s*/\s*[\d.]+\s*/\s*\w+\s+[^\s:;,]+(?::(\d+))?',
                 lws(v[0]))
    return int(m.group(1)) if m and m.group(1) else 5060


def status_of(msg):
    m = re.match(rb'SIP/2\.0 (\d+)', msg)
    return int(m.group(1)) if m else None


def ack_for(request, response):
    """The ACK of a non-2xx final response to an INVITE (RFC 3261
    17.1.1.3), so that the proxy stops retransmitting it."""
    start, _, _ = split_head(request)
    _, fields, _ = split_head(response)
    out = [b'ACK ' + start.split(b' ')[1] + b' SIP/2.0']
    for name in ('via', 'from', 'to', 'call-id'):
        v = values(fields, name)
        if v:
            out.append(name.encode() + b': ' + lws(v[0]))
    cseq = values(fields, 'cseq')
    if cseq:
        out.append(b'CSeq: ' + lws(cseq[0]).split(b' ')[0] + b' ACK')
    out.append(b'Max-Forwards: 70\r\nContent-Length: 0')
    return b'\r\n'.join(out) + b'\r\n\r\n'


def send(data, tp, port, tls_port, wait):
    """Send one message; returns (final status or None, all statuses,
    closed: the proxy closed the stream). Responses of other messages
    (by Call-ID) are not counted."""
    got = []
    cid = call_id(data)
    closed = False
    deadline = time.monotonic() + wait
    if tp == 'udp':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', via_port(data)))
        s.sendto(data, ('127.0.0.1', port))
    else:
        s = socket.create_connection(('127.0.0.1', tls_port if tp == 'tls'
                                      else port), timeout=wait)
        if tp == 'tls':
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        s.sendall(data)
    buf = b''
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            chunk = s.recv(65535)
            if not chunk:
                closed = True
                break
            msgs, buf = ([chunk], b'') if tp == 'udp' else frame(buf + chunk)
            for m in msgs:
                if cid is not None and call_id(m) != cid:
                    continue
                st = status_of(m)
                got.append(st)
                if st is not None and st >= 300 and \
                        data.startswith(b'INVITE '):
                    a = ack_for(data, m)
                    if tp == 'udp':
                        s.sendto(a, ('127.0.0.1', port))
                    else:
                        s.sendall(a)
                if st is not None and st >= 200:
                    return st, got, closed
    except (socket.timeout, ssl.SSLError, ConnectionResetError):
        pass
    finally:
        s.close()
    return None, got, closed


def forwarded(cid):
    with LOCK:
        # Not ACKs: the sender's ACK of a stateless error answer matches
        # no transaction, and a proxy forwards such an ACK (16.11).
        return [(a, tp, m, t) for a, tp, m, t in RECEIVED
                if m[:4] not in (b'SIP/', b'ACK ') and call_id(m) == cid]


def forwardings(fwds):
    """The copies that are forwardings: not the proxy's resends over UDP
    (byte for byte the previous copy, RESEND_AFTER or more later)."""
    out = []
    for f in fwds:
        if out and f[1] == 'udp' and f[2] == out[-1][2] and \
                f[3] - last >= RESEND_AFTER:
            last = f[3]
            continue
        out.append(f)
        last = f[3]
    return out


def check_forward(name, orig, fwds, opts, problems):
    """What must be true of the forwarded copy."""
    o_start, o_fields, o_body = split_head(orig)
    cl = values(o_fields, 'content-length')
    if cl:  # what follows the body in a datagram is not part of it
        o_body = o_body[:int(lws(cl[0]))]
    if 'only1' in opts and len(forwardings(fwds)) != 1:
        problems.append('%d copies forwarded (%d with resends), want 1' %
                        (len(forwardings(fwds)), len(fwds)))
    addr, _, f, _ = fwds[0]
    f_start, f_fields, f_body = split_head(f)
    o_parts, f_parts = o_start.split(), f_start.split(b' ')
    if f_parts[0] != o_parts[0]:
        problems.append('method %r became %r' % (o_parts[0], f_parts[0]))
    if 'ruri' in opts:
        want = opts['ruri'].encode('latin-1')
        if f_parts[1] != want:
            problems.append('Request-URI %r, want %r' % (f_parts[1], want))
    elif f_parts[1] != o_parts[1]:
        problems.append('Request-URI changed: %r -> %r' % (o_parts[1],
                                                           f_parts[1]))
    if f_start.count(b' ') != 2 or not f_start.endswith(b' SIP/2.0'):
        problems.append('request line %r' % f_start)
    if f_body != o_body:
        problems.append('body changed (%d -> %d bytes)' % (len(o_body),
                                                            len(f_body)))
    for h in filter(None, opts.get('keep', '').split('|')):
        want = [lws(v) for v in values(o_fields, h)]
        have = [lws(v) for v in values(f_fields, h)]
        if want != have:
            problems.append('%s %r forwarded as %r' % (h, want, have))
    if 'to' in opts:
        want = tuple(x for x in opts['to'].split(':'))
        if (addr[0], str(addr[1])) != want:
            problems.append('sent to %s:%d, want %s' % (addr[0], addr[1],
                                                        opts['to']))
    if 'lastroute' in opts:
        r = values(f_fields, 'route')
        last = lws(r[-1]).split(b',')[-1].strip() if r else b''
        if last != opts['lastroute'].encode('latin-1'):
            problems.append('last Route %r, want %s' % (last,
                                                        opts['lastroute']))
    if 'absent' in opts:
        with LOCK:
            if any(opts['absent'].encode('latin-1') in m
                   for _, _, m, _ in RECEIVED):
                problems.append('%s reached the peer' % opts['absent'])


def alive(port):
    """The proxy answers an OPTIONS to itself over TCP."""
    msg = ('OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n'
           'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-alive%d\r\n'
           'From: <sip:t@127.0.0.1>;tag=a\r\nTo: <sip:127.0.0.1:%d>\r\n'
           'Call-ID: alive-%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n'
           'Content-Length: 0\r\n\r\n' % (port, time.monotonic_ns(), port,
                                          time.monotonic_ns())).encode()
    try:
        st, _, _ = send(msg, 'tcp', port, 0, 5)
    except OSError:
        return False
    return st == 200


def transaction_key(msg):
    """RFC 3261 17.2.3: top Via branch and sent-by, and the method."""
    start, fields, _ = split_head(msg)
    v = values(fields, 'via')
    if not v or start.startswith(b'SIP/'):
        return None
    m = re.match(rb'SIP\s*/\s*[\d.]+\s*/\s*\w+\s+([^;,]+)(.*)', lws(v[0]))
    b = re.search(rb'branch\s*=\s*([^;, ]+)', m.group(2)) if m else None
    return (b.group(1), m.group(1).strip(), start.split(b' ')[0]) if b \
        else None


SENT = {}  # transaction key -> when a message with it was sent


def run_one(name, tp, outcome, opts, datdir, port, tls_port):
    data = open('%s/%s.dat' % (datdir, name), 'rb').read()
    # Some messages share a Via branch (cparam01 and cparam02): to the
    # proxy, rightly, the second is the first's retransmission until the
    # transaction ends (Timer J, 64*T1 = transaction_timeout).
    key = transaction_key(data)
    if key in SENT:
        time.sleep(max(0, SENT[key] + TIMER_J - time.monotonic()))
    SENT[key] = time.monotonic()
    cid = call_id(data)
    fwd_expected = outcome == 'forward'
    wait = float(opts.get('wait', 1.5 if outcome == 'drop' else 6))
    st, got, closed = send(data, tp, port, tls_port, wait)
    if outcome == 'drop' or 'settle' in opts:
        time.sleep(0.3)  # a copy would be on its way by now
    fwds = forwarded(cid) if cid else []
    problems = []
    if outcome == 'forward':
        want = int(opts.get('code', 200))
        if not fwds:
            problems.append('not forwarded (answered %s)' % st)
        elif st != want:
            problems.append('answer %s, want the peer\'s %d' % (st, want))
        if fwds:
            check_forward(name, data, fwds, opts, problems)
    elif outcome == 'drop':
        if got:
            problems.append('answered %s' % got)
        if fwds:
            problems.append('forwarded')
    elif outcome == 'close':
        if not closed:
            problems.append('connection not closed (answers %s)' % got)
        if fwds:
            problems.append('forwarded')
    else:
        allowed = [int(c) for c in outcome.split('|')]
        if st not in allowed:
            problems.append('answered %s (all: %s), want %s' % (st, got,
                                                                 outcome))
        if fwds and not fwd_expected:
            problems.append('forwarded anyway')
        if 'close' in opts and not closed:
            problems.append('connection not closed after the answer')
    if not alive(port):
        problems.append('proxy does not answer afterwards')
    if problems:
        return 'not ok %s (%s, %s): %s' % (name, tp, outcome,
                                           '; '.join(problems))
    return 'ok %s (%s): %s' % (name, tp, outcome if outcome != 'forward'
                               else 'forwarded as RFC 4475 says')


def main():
    datdir, expected = sys.argv[1], sys.argv[2]
    port, tls_port = int(sys.argv[3]), int(sys.argv[4])
    only = set(sys.argv[5:])
    for target, args in ((dns_server, ()), (peer_udp, ((PEER, 5060),)),
                         (peer_tcp, ((PEER, 5060),)), (peer_udp, (STRICT,)),
                         (peer_tcp, (STRICT,))):
        threading.Thread(target=target, args=args, daemon=True).start()
    time.sleep(0.2)
    for line in open(expected):
        line = line.split('#', 1)[0].split()
        if not line:
            continue
        name, tp, outcome = line[:3]
        if only and name not in only:
            continue
        opts = dict((kv.split('=', 1) + [''])[:2] for kv in line[3:])
        unknown = set(opts) - OPTIONS
        if unknown:  # a misspelt or retired option must not pass unseen
            print('not ok %s: unknown option %s' % (name, ', '.join(unknown)),
                  flush=True)
            continue
        try:
            print(run_one(name, tp, outcome, opts, datdir, port, tls_port),
                  flush=True)
        except Exception as e:  # a test bug or a crash: report, go on
            print('not ok %s: %s: %s' % (name, type(e).__name__, e),
                  flush=True)


if __name__ == '__main__':
    main()
