#!/usr/bin/env python3
"""RFC 5626 keep-alives against e2mproxyd, one check per output line:
"ok NAME" or "fail NAME: why" (t_keepalive.sh turns them into TAP).

  keepalive.py crlf tcp|tls HOST PORT [CAFILE]
      double-CRLF ping -> one CRLF pong; a single CRLF -> nothing; then
      OPTIONS on the same connection -> 200; a ping after it -> a pong
  keepalive.py stun HOST PORT
      Binding requests (plain, with FINGERPRINT, with an unknown
      comprehension-required attribute) checked byte by byte; garbage
      and RFC 3489 requests unanswered; OPTIONS on the same socket -> 200
  keepalive.py flood SRC HOST PORT COUNT METRICS_URL
      COUNT Binding requests from one socket on SRC as fast as it can; prints
      "answered N elapsed SECONDS" (the source budget's share). Done when
      the proxy's metrics (METRICS_URL) account for all COUNT (answered
      or over the budget) and N answers have come, both waited for
      (bounded): not a fixed quiet time, which a proxy slow to read the
      flood on a loaded machine outlasted. SECONDS runs from the first
      request to the proxy having read the last: the budget refills
      while it reads, not while they are sent.
"""
import os
import socket
import ssl
import struct
import sys
import time
import urllib.request
import zlib

COOKIE = 0x2112A442
QUIET = 1.0  # how long "no answer" is waited for (bounded)


def say(good, name, why=''):
    print(('ok ' if good else 'fail ') + name + ('' if good else ': ' + why))
    sys.stdout.flush()


def options(host, port, transport, local_port):
    """An OPTIONS to the proxy itself (answered 200 locally)."""
    uri_host = '[%s]' % host if ':' in host else host
    tag = os.urandom(4).hex()
    return ('OPTIONS sip:%s:%d SIP/2.0\r\n'
            'Via: SIP/2.0/%s %s:%d;rport;branch=z9hG4bK-ka-%s\r\n'
            'From: <sip:ka@%s>;tag=%s\r\nTo: <sip:%s:%d>\r\n'
            'Call-ID: ka-%s@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n'
            'Content-Length: 0\r\n\r\n' %
            (uri_host, port, transport, uri_host, local_port, tag, uri_host,
             tag, uri_host, port, tag)).encode()


# ---- CRLF over a stream -------------------------------------------------

def read_for(s, want, wait):
    """Read until want bytes arrived or wait seconds passed."""
    buf = b''
    deadline = time.monotonic() + wait
    while len(buf) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(4096)
        except (socket.timeout, ssl.SSLWantReadError):
            break
        if not chunk:
            break
        buf += chunk
    return buf


def read_response(s, wait):
    buf = b''
    deadline = time.monotonic() + wait
    while b'\r\n\r\n' not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return buf


def crlf(proto, host, port, cafile=None):
    s = socket.create_connection((host, port), timeout=10)
    if proto == 'tls':
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False
        s = ctx.wrap_socket(s)
    name = proto.upper()
    s.sendall(b'\r\n\r\n')
    got = read_for(s, 2, 10)
    say(got == b'\r\n', name + ': CRLFCRLF ping answered with a CRLF pong',
        'got %r' % got)
    # The single CRLF's quiet period also shows that the ping got exactly
    # one pong (a second would arrive in it).
    s.sendall(b'\r\n')
    got = read_for(s, 1, QUIET)
    say(got == b'', name + ': a single CRLF gets nothing (and the ping '
        'got one pong only)', 'got %r' % got)
    s.sendall(options(host, port, name, s.getsockname()[1]))
    got = read_response(s, 10)
    say(got.startswith(b'SIP/2.0 200 '), name + ': OPTIONS on the same '
        'connection after the pings gets 200 (first bytes after them)',
        'got %r' % got[:60])
    s.sendall(b'\r\n\r\n')
    got = read_for(s, 2, 10)
    say(got == b'\r\n', name + ': a ping after a request gets its pong',
        'got %r' % got)
    s.close()


# ---- STUN over UDP ------------------------------------------------------

def attr(atype, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack('!HH', atype, len(value)) + value + b'\0' * pad


def request(tid, attrs=b'', fingerprint=False, mtype=1, cookie=COOKIE):
    body = attrs
    if fingerprint:
        head = struct.pack('!HHI', mtype, len(body) + 8, cookie) + tid
        crc = (zlib.crc32(head + body) ^ 0x5354554e) & 0xffffffff
        body += struct.pack('!HHI', 0x8028, 4, crc)
    return struct.pack('!HHI', mtype, len(body), cookie) + tid + body


def parse(msg):
    """(type, tid, [(type, value)]) or None when not well formed."""
    if len(msg) < 20:
        return None
    mtype, mlen, cookie = struct.unpack('!HHI', msg[:8])
    if cookie != COOKIE or mlen != len(msg) - 20 or mlen % 4:
        return None
    attrs, off = [], 20
    while off < len(msg):
        atype, alen = struct.unpack('!HH', msg[off:off + 4])
        attrs.append((atype, msg[off + 4:off + 4 + alen], off))
        off += 4 + alen + (4 - alen % 4) % 4
    if off != len(msg):
        return None
    return mtype, msg[8:20], attrs


def xor_address(value, tid):
    family, xport = struct.unpack('!xBH', value[:4])
    port = xport ^ (COOKIE >> 16)
    key = struct.pack('!I', COOKIE) + tid
    raw = bytes(a ^ b for a, b in zip(value[4:], key))
    if family == 1:
        return socket.inet_ntop(socket.AF_INET, raw[:4]), port
    return socket.inet_ntop(socket.AF_INET6, raw[:16]), port


def exchange(s, dest, data, wait=10):
    s.sendto(data, dest)
    s.settimeout(wait)
    try:
        return s.recvfrom(2048)[0]
    except socket.timeout:
        return None


def stun(host, port):
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    me = s.getsockname()
    dest = (host, port)
    v = 'v6' if family == socket.AF_INET6 else 'v4'

    tid = os.urandom(12)
    r = parse(exchange(s, dest, request(tid)) or b'')
    good = r is not None and r[0] == 0x0101 and r[1] == tid
    say(good, v + ' Binding request: success response, same transaction id',
        repr(r))
    if good:
        xma = [a for a in r[2] if a[0] == 0x0020]
        mapped = xor_address(xma[0][1], tid) if xma else None
        say(mapped == (me[0], me[1]), v + ' XOR-MAPPED-ADDRESS is the '
            'sender %s:%d' % (me[0], me[1]), 'got %r' % (mapped,))
        say(all(a[0] != 0x8028 for a in r[2]), v + ' no FINGERPRINT '
            'unless the request had one', repr(r[2]))

    tid = os.urandom(12)
    msg = exchange(s, dest, request(tid, attr(0x8022, b'keepalive.py'),
                                     fingerprint=True)) or b''
    r = parse(msg)
    good = r is not None and r[0] == 0x0101 and r[1] == tid and \
        r[2] and r[2][-1][0] == 0x8028
    if good:
        off = r[2][-1][2]
        crc = (zlib.crc32(msg[:off]) ^ 0x5354554e) & 0xffffffff
        good = struct.unpack('!I', r[2][-1][1])[0] == crc
    say(good, v + ' with FINGERPRINT: answered, FINGERPRINT last and right',
        repr(r))

    tid = os.urandom(12)
    r = parse(exchange(s, dest, request(tid, attr(0x0003, b'\0\0\0\x06'))) or
              b'')
    good = r is not None and r[0] == 0x0111 and r[1] == tid
    if good:
        codes = [a[1] for a in r[2] if a[0] == 0x0009]
        unknown = [a[1] for a in r[2] if a[0] == 0x000A]
        good = codes and codes[0][2] == 4 and codes[0][3] == 20 and \
            unknown == [b'\x00\x03']
    say(good, v + ' CHANGE-REQUEST (RFC 5780, not ours): 420 naming it',
        repr(r))

    junk = [
        b'\x00',                                    # one byte
        b'\x00' * 20,                               # no cookie, type 0
        request(os.urandom(12), mtype=0x0101),      # a success response
        request(os.urandom(12), mtype=0x0011),      # a Binding indication
        request(os.urandom(12)) + b'\0\0\0\0',  # length short
        struct.pack('!HH', 1, 8) + os.urandom(16) + b'\0\x03\0\x04\0\0\0\0',
        # ^ RFC 3489 (no magic cookie, CHANGE-REQUEST): stun-client's
        b'\x01\x01\x00\x00garbage garbage!',
    ]
    for j in junk:
        s.sendto(j, dest)
    s.settimeout(QUIET)
    try:
        got = s.recvfrom(2048)[0]
    except socket.timeout:
        got = None
    say(got is None, v + ' %d malformed or non-request STUN datagrams '
        '(first byte 0 or 1) get no answer' % len(junk), repr(got))

    transport_host = host
    s.settimeout(10)
    s.sendto(options(transport_host, port, 'UDP', me[1]), dest)
    try:
        got = s.recvfrom(65535)[0]
    except socket.timeout:
        got = b''
    say(got.startswith(b'SIP/2.0 200 '), v + ' OPTIONS on the same socket '
        'right after: 200', repr(got[:40]))

    tid = os.urandom(12)
    r = parse(exchange(s, dest, request(tid)) or b'')
    say(r is not None and r[0] == 0x0101 and r[1] == tid,
        v + ' a Binding request after SIP: still answered', repr(r))


def stun_counts(url):
    """(answered, over the source budget) in the proxy's metrics."""
    want = {'e2mproxy_stun_requests_total{result="answered"}': 0,
            'e2mproxy_rate_limited_total{limit="source"}': 0}
    try:
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] in want:
            want[f[0]] = int(float(f[1]))
    return tuple(want.values())


def flood(src, host, port, count, url, wait=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    start = time.monotonic()
    tids = set()
    for _ in range(count):
        tid = os.urandom(12)
        tids.add(tid)
        s.sendto(request(tid), (host, port))
    deadline = start + wait
    counts = None
    while time.monotonic() < deadline:
        counts = stun_counts(url)
        if counts is not None and sum(counts) >= count:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    want = counts[0] if counts else count
    answered = 0
    try:
        while answered < want:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            r = parse(s.recvfrom(2048)[0])
            if r is not None and r[0] == 0x0101 and r[1] in tids:
                answered += 1
    except socket.timeout:
        pass
    print('answered %d elapsed %.3f' % (answered, elapsed))


def main():
    mode = sys.argv[1]
    if mode == 'crlf':
        crlf(sys.argv[2], sys.argv[3], int(sys.argv[4]),
             sys.argv[5] if len(sys.argv) > 5 else None)
    elif mode == 'stun':
        stun(sys.argv[2], int(sys.argv[3]))
    elif mode == 'flood':
        flood(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
              sys.argv[6])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
