#!/usr/bin/env python3
"""Send a raw SIP message (bytes from a file) over UDP, TCP or TLS (the
server's certificate not checked) and print the status line of the first
response other than 100 Trying, or TIMEOUT.
usage: sipraw.py udp|tcp|tls HOST PORT FILE [WAIT_SECONDS [PROBEFILE]]
With PROBEFILE (UDP), a request the peer answers for sure (an OPTIONS to
itself, with rport) is sent from the same socket right after FILE: the
peer reads datagrams in order, so when the probe's answer comes first,
FILE got none (NONE is printed). A check that FILE gets no answer then
waits for a positive marker, not for a fixed time that a slow peer could
outlast."""
import re
import socket
import ssl
import sys
import time


def messages(buf):
    """Split complete messages off the front of a TCP byte stream: returns
    (list of messages, rest). One read may hold a 100 and the final
    response together."""
    out = []
    while True:
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


def status(msg):
    return msg.split(b'\r\n', 1)[0].decode('latin-1')


def call_id(msg):
    m = re.search(rb'(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)', msg)
    return m.group(1) if m else None


def main():
    proto, host, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    wait = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0
    probe = open(sys.argv[6], 'rb').read() if len(sys.argv) > 6 else None
    probe_id = call_id(probe) if probe else None
    data = open(path, 'rb').read()
    deadline = time.monotonic() + wait
    if proto == 'udp':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        s.sendto(data, (host, port))
        if probe:
            s.sendto(probe, (host, port))
    else:
        s = socket.create_connection((host, port), timeout=wait)
        if proto == 'tls':
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        try:
            s.sendall(data)
        except OSError:
            # The peer answered before it read everything and closed
            # (a 413 to a request too large): what it sent before the
            # reset is still there to read.
            pass
    buf = b''
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65535)
            except ConnectionResetError:
                break
            if not chunk:
                break
            if proto == 'udp':
                found = [chunk]
            else:
                found, buf = messages(buf + chunk)
            for msg in found:
                line = status(msg)
                if line.startswith('SIP/2.0 100 '):
                    continue
                if probe_id is not None and call_id(msg) == probe_id:
                    print('NONE')
                    return
                print(line)
                return
    except socket.timeout:
        pass
    print('TIMEOUT')


if __name__ == '__main__':
    main()
