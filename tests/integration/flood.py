#!/usr/bin/env python3
"""Send COUNT copies of a request (a file; Call-ID and branch made unique)
pipelined over one TCP connection, collect the final responses, and print
"CODE COUNT" lines plus "retry-after N" for the 503s that carried one.
With WINDOW, at most WINDOW requests are outstanding at a time (a steady
load below the proxy's queue limits); without, all are sent at once. With
FLOOD_OK_IDS set to a file name, the Call-ID of every 2xx final response
is written there, one per line, as it arrives (flushed: the file is right
even when the proxy is killed under the flood).
usage: flood.py PORT FILE COUNT [WAIT [WINDOW]]"""
import collections
import os
import socket
import sys
import time


def main():
    port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    wait = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    window = int(sys.argv[5]) if len(sys.argv) > 5 else count
    tmpl = open(path, 'rb').read()
    s = socket.create_connection(('127.0.0.1', port))
    sent = 0

    def send_upto(n):
        nonlocal sent
        n = min(n, count)
        if n > sent:
            s.sendall(b''.join(tmpl.replace(b'@N@', str(i).encode())
                               for i in range(sent, n)))
            sent = n
    send_upto(window)
    s.settimeout(wait)
    buf, codes, ra = b'', collections.Counter(), 0
    ok_ids = open(os.environ['FLOOD_OK_IDS'], 'w') if os.environ.get('FLOOD_OK_IDS') else None
    deadline = time.time() + wait
    while sum(codes.values()) < count and time.time() < deadline:
        send_upto(sum(codes.values()) + window)
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
            if ok_ids is not None and code.startswith('2'):
                for l in lines:
                    if l.lower().startswith(('call-id:', 'i:')):
                        ok_ids.write(l.split(':', 1)[1].strip() + '\n')
                        ok_ids.flush()
            if code == '503' and any(l.lower().startswith('retry-after:') for l in lines):
                ra += 1
    for code, n in sorted(codes.items()):
        print(code, n)
    print('retry-after', ra)


if __name__ == '__main__':
    main()
