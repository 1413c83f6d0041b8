#!/usr/bin/env python3
"""Many TCP connections to the proxy, one after the other.

usage: connflood.py PORT COUNT valid|hostile
  valid:   each sends a whole OPTIONS to the proxy and waits for its answer
  hostile: odd ones send 600 random bytes and close, even ones the start
           of an INVITE with a 2000-byte header line and stay open (200 at
           a time) until the proxy's message timeout; waits 3 s at the end
           for the last ones to be closed
Prints "answered N" (valid) or "sent N".
"""
import os
import socket
import sys
import time


def options(port, i):
    return ('OPTIONS sip:127.0.0.1:%d;transport=tcp SIP/2.0\r\n'
            'Via: SIP/2.0/TCP 127.0.0.1:9;rport;branch=z9hG4bK-c%d\r\n'
            'From: <sip:m@127.0.0.1>;tag=c%d\r\nTo: <sip:127.0.0.1>\r\n'
            'Call-ID: c%d@t\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n'
            'Content-Length: 0\r\n\r\n' % (port, i, i, i)).encode()


def main():
    port, n, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    answered = 0
    held = []
    for i in range(n):
        s = socket.create_connection(('127.0.0.1', port))
        if kind == 'valid':
            s.sendall(options(port, i))
            s.settimeout(5)
            if s.recv(4096).startswith(b'SIP/2.0 200 '):
                answered += 1
            s.close()
        elif i % 2:
            s.sendall(os.urandom(600))
            s.close()
        else:
            s.sendall(b'INVITE sip:x@127.0.0.1 SIP/2.0\r\n'
                      b'Via: SIP/2.0/TCP 127.0.0.1:9\r\nX-Pad: ' + b'p' * 2000)
            held.append(s)
            if len(held) >= 200:
                for h in held:
                    h.close()
                held = []
    if kind == 'valid':
        print('answered %d' % answered)
    else:
        time.sleep(3)
        for h in held:
            h.close()
        print('sent %d' % n)


if __name__ == '__main__':
    main()
