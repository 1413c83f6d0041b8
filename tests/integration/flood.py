#!/usr/bin/env python3
"""Send COUNT copies of a request (a file; Call-ID and branch made unique)
pipelined over one TCP connection, collect the final responses, and print
"CODE COUNT" lines plus "retry-after N" for the 503s that carried one.
usage: flood.py PORT FILE COUNT [WAIT]"""
import collections
import socket
import sys
import time


def main():
    port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    wait = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    tmpl = open(path, 'rb').read()
    out = b''.join(tmpl.replace(b'@N@', str(i).encode()) for i in range(count))
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(out)
    s.settimeout(wait)
    buf, codes, ra = b'', collections.Counter(), 0
    deadline = time.time() + wait
    while sum(codes.values()) < count and time.time() < deadline:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
        while b'\r\n\r\n' in buf:
            head, buf = buf.split(b'\r\n\r\n', 1)
            lines = head.decode('latin-1').split('\r\n')
            code = lines[0].split(' ')[1]
            if code.startswith('1'):
                continue
            codes[code] += 1
            if code == '503' and any(l.lower().startswith('retry-after:') for l in lines):
                ra += 1
    for code, n in sorted(codes.items()):
        print(code, n)
    print('retry-after', ra)


if __name__ == '__main__':
    main()
