#!/usr/bin/env python3
"""A phone behind the edge proxy, for the edge tests: it registers through
the proxy over UDP or TCP (with or without RFC 5626 outbound) and answers
what comes back over that same socket or connection, the way a phone
behind a NAT can only be reached.

usage: phone.py udp|tcp|tls PROXY_PORT USER [options]
  --outbound        Contact with reg-id and +sip.instance, Supported: path,
                    outbound
  --no-path         no "Supported: path"
  --expires N       asked expiry (default 300)
  --instance URN    the +sip.instance (default: a random urn:uuid)
  --ping            after registering (TCP), send a CRLFCRLF keep-alive and
                    report whether the CRLF pong came back
  --register-only   exit after the REGISTER's final response
  --send URI        after registering, send a text/plain MESSAGE to URI
                    through the proxy over the same flow

One line per event on stdout (flushed):
  REGISTERED <status> flow_timer=<N|-> path=<Path echoed|->
  PONG | NOPONG
  SENT <status>
  REQ <METHOD> <request-uri> route=<top Route|-> via=<top Via sent-by>
      cid=<Call-ID>
SIGUSR1 closes a TCP connection (the flow fails; the phone stays up, now
unreachable); SIGTERM ends it. Answers: INVITE 200 (with SDP), MESSAGE,
BYE, OPTIONS, anything else 200; ACK nothing.
"""
import os
import random
import re
import select
import signal
import socket
import ssl
import sys
import time

SDP = ("v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n")


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def header(msg, name):
    m = re.search(rb'(?im)^' + name.encode() + rb'[ \t]*:[ \t]*(.*?)\r$',
                  msg.split(b'\r\n\r\n', 1)[0] + b'\r')
    return m.group(1).decode('latin-1') if m else None


def headers(msg, name):
    return [v.decode('latin-1') for v in re.findall(
        rb'(?im)^' + name.encode() + rb'[ \t]*:[ \t]*(.*?)\r$',
        msg.split(b'\r\n\r\n', 1)[0] + b'\r')]


def split_stream(buf):
    """Complete messages off the front of a TCP stream, and keep-alive
    CRLFs; returns (messages, pongs, rest)."""
    out, pongs = [], 0
    while True:
        if buf.startswith(b'\r\n\r\n'):
            buf = buf[4:]
            continue
        if buf.startswith(b'\r\n'):
            pongs += 1
            buf = buf[2:]
            continue
        end = buf.find(b'\r\n\r\n')
        if end < 0:
            return out, pongs, buf
        m = re.search(rb'(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)',
                      buf[:end])
        total = end + 4 + (int(m.group(1)) if m else 0)
        if len(buf) < total:
            return out, pongs, buf
        out.append(buf[:total])
        buf = buf[total:]


class Phone:
    def __init__(self, proto, port, user, opts):
        self.proto, self.port, self.user, self.opts = proto, port, user, opts
        self.buf = b''
        self.pongs = 0
        if proto == 'udp':
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.bind(('127.0.0.1', 0))
        elif proto == 'tls':
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self.s = ctx.wrap_socket(
                socket.create_connection(('127.0.0.1', port)))
        else:
            self.s = socket.create_connection(('127.0.0.1', port))
        self.lport = self.s.getsockname()[1]
        self.tp = proto.upper()
        self.callid = '%x@phone' % random.getrandbits(64)
        self.instance = 'urn:uuid:%08x-0000-4000-8000-%012x' % (
            random.getrandbits(32), random.getrandbits(48))

    def send(self, data):
        if self.proto == 'udp':
            self.s.sendto(data, ('127.0.0.1', self.port))
        else:
            self.s.sendall(data)

    def recv(self, timeout):
        """Messages received within timeout (at least one, or none)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return []
            pending = self.proto == 'tls' and self.s.pending() > 0
            r, _, _ = select.select([self.s], [], [], 0 if pending else left)
            if not r and not pending:
                return []
            if self.proto == 'udp':
                data, _ = self.s.recvfrom(65535)
                if data.strip() == b'':
                    continue
                return [data]
            data = self.s.recv(65535)
            if not data:
                return None  # closed
            self.buf += data
            msgs, pongs, self.buf = split_stream(self.buf)
            self.pongs += pongs
            if msgs or pongs:
                return msgs

    def register(self):
        o = self.opts
        contact = '<sip:%s@127.0.0.1:%d;transport=%s%s>' % (
            self.user, self.lport, self.proto, ';ob' if o['outbound'] else '')
        if o['outbound']:
            contact += ';+sip.instance="<%s>";reg-id=1' % self.instance
        sup = []
        if o['path']:
            sup.append('path')
        if o['outbound']:
            sup.append('outbound')
        req = ('REGISTER sip:example.com SIP/2.0\r\n'
               'Via: SIP/2.0/%s 127.0.0.1:%d;rport;branch=z9hG4bK%x\r\n'
               'Max-Forwards: 70\r\n'
               'From: <sip:%s@example.com>;tag=%x\r\n'
               'To: <sip:%s@example.com>\r\n'
               'Call-ID: %s\r\nCSeq: 1 REGISTER\r\n'
               'Contact: %s\r\nExpires: %d\r\n%s'
               'Content-Length: 0\r\n\r\n') % (
            self.tp, self.lport, random.getrandbits(48), self.user,
            random.getrandbits(32), self.user, self.callid, contact,
            o['expires'],
            'Supported: %s\r\n' % ', '.join(sup) if sup else '')
        self.send(req.encode())
        end = time.monotonic() + 15
        while time.monotonic() < end:
            msgs = self.recv(end - time.monotonic())
            if msgs is None:
                break
            for m in msgs:
                first = m.split(b'\r\n', 1)[0].decode('latin-1')
                if not first.startswith('SIP/2.0 '):
                    continue
                code = int(first.split()[1])
                if code < 200:
                    continue
                paths = headers(m, 'Path')
                say('REGISTERED %d flow_timer=%s path=%s' % (
                    code, header(m, 'Flow-Timer') or '-',
                    ','.join(paths) if paths else '-'))
                return code
        say('REGISTERED 0 flow_timer=- path=-')
        return 0

    def ping(self):
        before = self.pongs
        self.send(b'\r\n\r\n')
        end = time.monotonic() + 5
        while self.pongs == before and time.monotonic() < end:
            if self.recv(end - time.monotonic()) is None:
                break
        say('PONG' if self.pongs > before else 'NOPONG')

    def message(self, uri):
        body = 'hello from %s' % self.user
        req = ('MESSAGE %s SIP/2.0\r\n'
               'Via: SIP/2.0/%s 127.0.0.1:%d;rport;branch=z9hG4bK%x\r\n'
               'Max-Forwards: 70\r\nFrom: <sip:%s@example.com>;tag=%x\r\n'
               'To: <%s>\r\nCall-ID: %x@phone\r\nCSeq: 1 MESSAGE\r\n'
               'Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s') % (
            uri, self.tp, self.lport, random.getrandbits(48), self.user,
            random.getrandbits(32), uri, random.getrandbits(64), len(body),
            body)
        self.send(req.encode())
        end = time.monotonic() + 15
        while time.monotonic() < end:
            msgs = self.recv(end - time.monotonic())
            if msgs is None:
                break
            for m in msgs:
                first = m.split(b'\r\n', 1)[0].decode('latin-1')
                if first.startswith('SIP/2.0 ') and int(first.split()[1]) >= 200:
                    say('SENT %s' % first.split()[1])
                    return
        say('SENT 0')

    def answer(self, m):
        first = m.split(b'\r\n', 1)[0].decode('latin-1')
        if first.startswith('SIP/2.0'):
            return
        method, ruri = first.split()[0], first.split()[1]
        routes = headers(m, 'Route')
        vias = headers(m, 'Via') or ['-']
        say('REQ %s %s route=%s via=%s cid=%s' % (
            method, ruri, routes[0] if routes else '-',
            vias[0].split(';')[0].split()[-1],
            header(m, 'Call-ID') or header(m, 'i') or '-'))
        if method == 'ACK':
            return
        head = m.split(b'\r\n\r\n', 1)[0].decode('latin-1').split('\r\n')
        keep = [h for h in head[1:] if re.match(
            r'(?i)(via|v|from|f|call-id|i|cseq|record-route)\s*:', h)]
        to = [h for h in head[1:] if re.match(r'(?i)(to|t)\s*:', h)]
        tohdr = to[0] if to else 'To: <sip:x@x>'
        if ';tag=' not in tohdr:
            tohdr += ';tag=%x' % random.getrandbits(32)
        body = SDP if method == 'INVITE' else ''
        resp = 'SIP/2.0 200 OK\r\n' + '\r\n'.join(keep) + '\r\n' + tohdr + \
            '\r\nContact: <sip:%s@127.0.0.1:%d;transport=%s>\r\n' % (
                self.user, self.lport, self.proto)
        if body:
            resp += 'Content-Type: application/sdp\r\n'
        resp += 'Content-Length: %d\r\n\r\n%s' % (len(body), body)
        self.send(resp.encode())

    def serve(self):
        closed = False

        def cut(*_):
            nonlocal closed
            if self.proto != 'udp' and not closed:
                closed = True
                self.s.shutdown(socket.SHUT_RDWR)
                self.s.close()
                say('CLOSED')

        signal.signal(signal.SIGUSR1, cut)
        while True:
            if closed:
                time.sleep(0.2)
                continue
            try:
                msgs = self.recv(0.5)
            except (OSError, ValueError):
                if closed:
                    continue
                raise
            if msgs is None:
                say('CLOSED')
                closed = True
                continue
            for m in msgs:
                self.answer(m)


def main():
    args = sys.argv[1:]
    proto, port, user = args[0], int(args[1]), args[2]
    opts = {'outbound': '--outbound' in args, 'path': '--no-path' not in args,
            'expires': 300}
    if '--expires' in args:
        opts['expires'] = int(args[args.index('--expires') + 1])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    p = Phone(proto, port, user, opts)
    if '--instance' in args:
        p.instance = args[args.index('--instance') + 1]
    code = p.register()
    if '--ping' in args and proto != 'udp':
        p.ping()
    if '--send' in args and code == 200:
        p.message(args[args.index('--send') + 1])
    if '--register-only' in args or code != 200:
        return 0 if code == 200 else 1
    p.serve()
    return 0


if __name__ == '__main__':
    sys.exit(main())
