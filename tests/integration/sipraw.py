#!/usr/bin/env python3
"""Send a raw SIP message (bytes from a file) over UDP or TCP and print the
status line of the first response other than 100 Trying, or TIMEOUT.
usage: sipraw.py udp|tcp HOST PORT FILE [WAIT_SECONDS]"""
import socket
import sys


def main():
    proto, host, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    wait = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    data = open(path, 'rb').read()
    if proto == 'udp':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        s.settimeout(wait)
        s.sendto(data, (host, port))
    else:
        s = socket.create_connection((host, port), timeout=wait)
        s.sendall(data)
    try:
        while True:
            reply = s.recv(65535)
            if not reply:
                break
            line = reply.split(b'\r\n', 1)[0].decode('latin-1')
            if line.startswith('SIP/2.0 100 '):
                continue
            print(line)
            return
    except socket.timeout:
        pass
    print('TIMEOUT')


if __name__ == '__main__':
    main()
