#!/usr/bin/env python3
"""A small SIP registrar for e2mua's registration tests, written to see
what happens on the wire that SIPp does not show: which connection each
REGISTER came on, the RFC 5626 CRLF keep-alives on it, a request sent back
over it. Logs one JSON object per event to LOG:
  {"ev":"register","conn":N,"call_id":..,"cseq":N,"contact":..,
   "supported":..,"expires":N}     (expires: the Contact's parameter)
  {"ev":"ping","conn":N,"pong":true|false}   a CRLFCRLF keep-alive
  {"ev":"message","conn":N,"status":N}       our MESSAGE's answer
  {"ev":"closed","conn":N}                   the peer closed it
usage: registrar.py tcp|udp PORT LOG [options]
  --expires N      grant at most N seconds (default 60)
  --flow-timer N   Flow-Timer in the 2xx (default: none)
  --status N       answer every REGISTER N (401: with a challenge; 0: never)
  --pongs N        connection 1 answers its first N pings only
  --message        after the first ping answered on a connection with a
                   binding, send a MESSAGE to the contact over it
  --path URI       a Path the 2xx reports (as a registrar echoes it)
The 2xx also lists a foreign binding of the AoR first, as a registrar
lists every binding: the UA must pick its own."""
import argparse
import json
import re
import socket
import sys
import threading

lock = threading.Lock()


def log(f, **ev):
    with lock:
        f.write(json.dumps(ev) + '\n')
        f.flush()


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


def header(head, *names):
    for line in head.split('\r\n')[1:]:
        name, _, value = line.partition(':')
        if name.strip().lower() in names:
            return value.strip()
    return ''


def answer(head, args):
    lines = head.split('\r\n')
    keep = [l for l in lines[1:] if l.split(':', 1)[0].strip().lower() in
            ('via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq')]
    status = args.status
    contact = header(head, 'contact', 'm')
    m = re.search(r';expires=(\d+)', contact)
    asked = int(m.group(1)) if m else 3600
    out = ['SIP/2.0 %d %s' % (status, {200: 'OK', 401: 'Unauthorized'}
                                .get(status, 'Whatever'))]
    for l in keep:
        if l.lower().startswith(('to:', 't:')) and ';tag=' not in l:
            l += ';tag=reg'
        out.append(l)
    if status == 401:
        out.append('WWW-Authenticate: Digest realm="test", nonce="abc"')
    elif status == 200 and asked > 0:
        granted = min(asked, args.expires)
        out.append('Contact: <sip:other@192.0.2.9:5060>;expires=3600')
        out.append('Contact: ' + re.sub(r';expires=\d+', '', contact) +
                   ';expires=%d' % granted)
        out.append('Require: outbound')
        if args.flow_timer is not None:
            out.append('Flow-Timer: %d' % args.flow_timer)
        if args.path:
            out.append('Path: <%s>' % args.path)
    out.append('Content-Length: 0')
    return ('\r\n'.join(out) + '\r\n\r\n').encode('latin-1'), asked


def message_to(contact, n):
    uri = re.search(r'<([^>]*)>', contact).group(1)
    return ('MESSAGE %s SIP/2.0\r\n'
            'Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKreg%d\r\n'
            'From: <sip:registrar@example.com>;tag=r%d\r\n'
            'To: <sip:bob@example.com>\r\n'
            'Call-ID: regmsg%d@127.0.0.1\r\n'
            'CSeq: 1 MESSAGE\r\n'
            'Max-Forwards: 70\r\n'
            'Content-Type: text/plain\r\n'
            'Content-Length: 14\r\n\r\n'
            'over the flow\n' % (uri, n, n, n)).encode('latin-1')


def serve_tcp(conn, n, args, f):
    buf = b''
    pings = 0
    contact = None
    sent_message = False
    while True:
        try:
            data = conn.recv(65536)
        except OSError:
            data = b''
        if not data:
            log(f, ev='closed', conn=n)
            conn.close()
            return
        buf += data
        while True:
            if buf.startswith(b'\r\n\r\n'):
                buf = buf[4:]
                pings += 1
                pong = n != 1 or args.pongs is None or pings <= args.pongs
                log(f, ev='ping', conn=n, pong=pong)
                if pong:
                    conn.sendall(b'\r\n')
                    if args.message and contact and not sent_message:
                        sent_message = True
                        conn.sendall(message_to(contact, n))
                continue
            if buf.startswith(b'\r\n') and len(buf) < 4:
                break
            m = parse(buf)
            if m is None:
                break
            head, _, buf = m
            if head.startswith('SIP/2.0 '):
                log(f, ev='message', conn=n, status=int(head.split()[1]))
                continue
            if not head.startswith('REGISTER '):
                continue
            reply, asked = answer(head, args)
            contact = header(head, 'contact', 'm') if asked else None
            log_register(f, n, head, asked)
            if args.status:
                conn.sendall(reply)


def log_register(f, n, head, asked):
    log(f, ev='register', conn=n, call_id=header(head, 'call-id', 'i'),
        cseq=int(header(head, 'cseq').split()[0]),
        contact=header(head, 'contact', 'm'),
        supported=header(head, 'supported', 'k'), expires=asked)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('proto', choices=('tcp', 'udp'))
    p.add_argument('port', type=int)
    p.add_argument('log')
    p.add_argument('--expires', type=int, default=60)
    p.add_argument('--flow-timer', type=int)
    p.add_argument('--status', type=int, default=200)
    p.add_argument('--pongs', type=int)
    p.add_argument('--message', action='store_true')
    p.add_argument('--path')
    args = p.parse_args()
    f = open(args.log, 'a')
    if args.proto == 'udp':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', args.port))
        while True:
            data, addr = s.recvfrom(65536)
            m = parse(data)
            if m is None or not m[0].startswith('REGISTER '):
                continue
            reply, asked = answer(m[0], args)
            log_register(f, 0, m[0], asked)
            if args.status:
                s.sendto(reply, addr)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', args.port))
    s.listen(8)
    n = 0
    while True:
        conn, _ = s.accept()
        n += 1
        threading.Thread(target=serve_tcp, args=(conn, n, args, f),
                         daemon=True).start()


if __name__ == '__main__':
    sys.exit(main())
