#!/usr/bin/env python3
"""Send COUNT MESSAGEs over UDP as fast as possible from SRC_IP to
127.0.0.1:PORT (Request-URI TO), each its own transaction, then collect the
final responses until all COUNT have one or WAIT seconds have passed (a
bound: requests dropped by the proxy are never answered); print "sent N
final M" and "CODE COUNT" lines.
usage: udpflood.py SRC_IP PORT TO COUNT [WAIT]"""
import collections
import socket
import sys
import time


def request(to, src, lport, i):
    body = 'flood %d' % i
    return ('MESSAGE %s SIP/2.0\r\n'
            'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-flood-%d-%d\r\n'
            'From: <sip:flood@%s>;tag=f%d\r\n'
            'To: <%s>\r\n'
            'Call-ID: flood-%d-%d@%s\r\n'
            'CSeq: 1 MESSAGE\r\n'
            'Max-Forwards: 70\r\n'
            'Content-Type: text/plain\r\n'
            'Content-Length: %d\r\n\r\n%s' % (
                to, src, lport, lport, i, src, i, to, lport, i, src,
                len(body), body)).encode()


def main():
    src, port, to, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4])
    wait = float(sys.argv[5]) if len(sys.argv) > 5 else 3
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((src, 0))
    lport = s.getsockname()[1]
    for i in range(count):
        s.sendto(request(to, src, lport, i), ('127.0.0.1', port))
    codes, seen = collections.Counter(), set()
    deadline = time.time() + wait
    s.settimeout(0.2)
    while time.time() < deadline and sum(codes.values()) < count:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        line = d.split(b'\r\n', 1)[0].split()
        if len(line) < 2 or not line[1].isdigit() or int(line[1]) < 200:
            continue
        cid = [h for h in d.split(b'\r\n') if h.lower().startswith(b'call-id:')]
        key = cid[0] if cid else d
        if key in seen:
            continue
        seen.add(key)
        codes[int(line[1])] += 1
    print('sent %d final %d' % (count, sum(codes.values())))
    for c in sorted(codes):
        print('%d %d' % (c, codes[c]))


if __name__ == '__main__':
    main()
