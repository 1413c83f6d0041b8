#!/usr/bin/env python3
"""Hostile TCP/TLS connections to the proxy: how long until it closes them.

usage: streamprobe.py tcp|tls PORT KIND LIMIT [--bind ADDR]
  KIND: random     1500 random bytes, then nothing
        silent     connect (TLS: no handshake either) and send nothing
        partial    the first lines of a request, then nothing
        longline   a request line, then one header line that never ends
                   (4 KiB every 50 ms)
        slowloris  a request, one short header line every 2 s
        valid      a whole OPTIONS to the proxy, then silence: the 200
                   must come and the connection must stay open
        badlength  an OPTIONS with Content-Length: -5 and a body: Sofia's
                   400 must come back before the connection is closed
                   (the body reads as garbage to the proxy's framing)
Prints "KIND closed after S s" (or "KIND open after LIMIT s", "KIND
answered CODE, open after LIMIT s"); waits at most LIMIT seconds (bounded
polling every 0.1 s). Exit status 0 when it ended as KIND should: closed
for the hostile kinds, answered and still open for valid.
"""
import os
import socket
import ssl
import sys
import time


def main():
    proto, port, kind, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    bind = sys.argv[sys.argv.index('--bind') + 1] if '--bind' in sys.argv else None
    t0 = time.time()  # a TLS handshake is within the deadline too
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if bind:
        s.bind((bind, 0))
    s.connect(('127.0.0.1', port))
    if proto == 'tls' and kind != 'silent':
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.settimeout(0.1)
    lport = s.getsockname()[1]
    opts = ('OPTIONS sip:127.0.0.1:%d;transport=%s SIP/2.0\r\n'
            'Via: SIP/2.0/%s 127.0.0.1:%d;rport;branch=z9hG4bK-probe-%d\r\n'
            'From: <sip:probe@127.0.0.1>;tag=p%d\r\nTo: <sip:127.0.0.1:%d>\r\n'
            'Call-ID: probe-%d@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n'
            % (port, proto, proto.upper(), lport, lport, lport, port, lport))
    head = opts.split('\r\n')[0].encode() + b'\r\n'
    got = b''
    nxt = 0.0
    sent = 0
    if kind == 'random':
        s.sendall(os.urandom(1500))
    elif kind == 'partial':
        s.sendall(opts.encode()[:120])
    elif kind == 'valid':
        s.sendall(opts.encode() + b'Content-Length: 0\r\n\r\n')
    elif kind == 'badlength':
        s.sendall(opts.encode() + b'Content-Length: -5\r\n\r\nv=0 not SIP\r\n')
    while time.time() - t0 < limit:
        now = time.time()
        try:
            if kind == 'longline' and now >= nxt:
                s.sendall(head + b'X-Long: ' if sent == 0 else b'a' * 4096)
                sent += 1
                nxt = now + 0.05
            elif kind == 'slowloris' and now >= nxt:
                s.sendall(head if sent == 0 else b'X-Drip-%d: x\r\n' % sent)
                sent += 1
                nxt = now + 2
            d = s.recv(65536)
            if d == b'':
                break
            got += d
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        except (OSError, ssl.SSLError):
            break
    else:
        if kind == 'valid' and got.startswith(b'SIP/2.0 200 '):
            print('valid answered 200, open after %g s' % limit)
            return 0
        print('%s open after %g s' % (kind, limit))
        return 1
    if kind == 'badlength':
        print('badlength answered %s, closed after %.1f s' % ((got.split(b' ')[1].decode('ascii', 'replace') if got.count(b' ') else 'nothing'), time.time() - t0))
        return 0 if got.startswith(b'SIP/2.0 400 ') else 1
    print('%s closed after %.1f s' % (kind, time.time() - t0))
    return 1 if kind == 'valid' else 0


if __name__ == '__main__':
    sys.exit(main())
