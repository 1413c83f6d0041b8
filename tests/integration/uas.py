#!/usr/bin/env python3
"""A minimal SIP UAS for tests: listens on TCP (or UDP), answers every
request 200 OK, and stores each request's body byte-exact as DIR/N.body and
its headers as DIR/N.head (N counts from 1; DIR "-": stores nothing). Exits
after COUNT requests or TIMEOUT seconds. Over UDP a copy of a request
already answered (the same top Via branch and CSeq: the proxy's Timer A/E
resent it because this UAS, descheduled on a loaded machine, answered after
T1) gets the same answer again and is neither counted nor stored: it is
one request (RFC 3261 17.2.1, 17.2.2).
usage: uas.py udp|tcp PORT DIR COUNT [TIMEOUT]
Environment (TCP only): UAS_HOLD=FILE answers the first request only once
FILE exists (a transaction kept in flight); UAS_SDP=FILE answers INVITEs
with FILE as an application/sdp body."""
import os
import socket
import sys
import time


def parse(buf):
    """One message from the front of buf: (head, body, rest) or None."""
    end = buf.find(b'\r\n\r\n')
    if end < 0:
        return None
    head = buf[:end].decode('latin-1')
    length = 0
    for line in head.split('\r\n')[1:]:
        name, _, value = line.partition(':')
        if name.strip().lower() in ('content-length', 'l'):
            length = int(value.strip())
    if len(buf) < end + 4 + length:
        return None
    return head, buf[end + 4:end + 4 + length], buf[end + 4 + length:]


def answer(head):
    body = b''
    if head.startswith('INVITE') and os.environ.get('UAS_SDP'):
        with open(os.environ['UAS_SDP'], 'rb') as f:
            body = f.read()
    lines = head.split('\r\n')
    keep = [l for l in lines[1:] if l.split(':', 1)[0].strip().lower() in
            ('via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq')]
    out = ['SIP/2.0 200 OK']
    for l in keep:
        if l.lower().startswith(('to:', 't:')) and ';tag=' not in l:
            l += ';tag=uas'
        out.append(l)
    if body:
        out.append('Contact: <sip:uas@127.0.0.1>')
        out.append('Content-Type: application/sdp')
    out.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(out) + '\r\n\r\n').encode('latin-1') + body


def hold(n, deadline):
    """UAS_HOLD: the first request waits for its file."""
    path = os.environ.get('UAS_HOLD')
    while n == 1 and path and not os.path.exists(path) and \
            time.time() < deadline:
        time.sleep(0.05)


def store(directory, n, head, body):
    if directory == '-':
        return
    with open(os.path.join(directory, '%d.head' % n), 'w') as f:
        f.write(head)
    with open(os.path.join(directory, '%d.body' % n), 'wb') as f:
        f.write(body)


def tx_key(head):
    """The server transaction a request belongs to (RFC 3261 17.2.3): its
    top Via's branch and its CSeq; an ACK matches no transaction here."""
    via = cseq = None
    for line in head.split('\r\n')[1:]:
        name, _, value = line.partition(':')
        name = name.strip().lower()
        if via is None and name in ('via', 'v'):
            for p in value.split(',')[0].split(';')[1:]:
                k, _, v = p.strip().partition('=')
                if k.lower() == 'branch':
                    via = v
        elif name == 'cseq':
            cseq = ' '.join(value.split())
    return (via, cseq) if via else None


def main():
    proto, port, directory, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    deadline = time.time() + (float(sys.argv[5]) if len(sys.argv) > 5 else 30)
    n = 0
    if proto == 'udp':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', port))
        answered = {}   # tx_key -> the answer sent
        while n < count and time.time() < deadline:
            s.settimeout(max(0.1, deadline - time.time()))
            try:
                data, peer = s.recvfrom(65535)
            except socket.timeout:
                break
            m = parse(data)
            if m and not m[0].startswith('SIP/2.0') and not m[0].startswith('ACK'):
                key = tx_key(m[0])
                if key is not None and key in answered:
                    s.sendto(answered[key], peer)
                    continue
                n += 1
                store(directory, n, m[0], m[1])
                out = answer(m[0])
                if key is not None:
                    answered[key] = out
                s.sendto(out, peer)
        return
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(128)
    conns, bufs = [], {}
    import select
    while n < count and time.time() < deadline:
        r, _, _ = select.select([ls] + conns, [], [], 0.2)
        for c in r:
            if c is ls:
                a, _ = ls.accept()
                conns.append(a)
                bufs[a] = b''
                continue
            try:
                d = c.recv(65536)
            except OSError:  # reset by a proxy that was killed
                d = b''
            if not d:
                conns.remove(c)
                continue
            bufs[c] += d
            while True:
                m = parse(bufs[c])
                if m is None:
                    break
                head, body, bufs[c] = m
                if head.startswith('SIP/2.0') or head.startswith('ACK'):
                    continue
                n += 1
                store(directory, n, head, body)
                hold(n, deadline)
                try:
                    c.sendall(answer(head))
                except OSError:
                    break


if __name__ == '__main__':
    main()
