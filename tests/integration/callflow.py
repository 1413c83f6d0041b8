#!/usr/bin/env python3
"""Both ends of one call through a proxy over TCP, with the SDP of every
offer and answer given by the test, for services that read SDP (media
pinholes). The caller sends to the proxy; the callee listens; requests in
the dialog follow the Record-Route. Between steps the script can wait for
the test: "wait:NAME" writes DIR/NAME.ready and waits until DIR/NAME.go
exists (the test checks the firewall meanwhile).

usage: callflow.py PROXYPORT CALLERPORT CALLEEPORT DIR STEP...
steps, in order:
  invite:OFFERFILE      the caller's INVITE with this SDP (or "-": none)
  answer:CODE[:SDPFILE] the callee's final answer (200 with an SDP, or a
                        failure code such as 486); a 180 goes first
  cancel                the caller CANCELs the ringing INVITE (instead of
                        answer; the callee then answers 487)
  ack[:SDPFILE]         the caller's ACK (with an answer for a late offer)
  reinvite:OFFERFILE:ANSWERFILE
                        the caller re-INVITEs; the callee answers 200 with
                        ANSWERFILE; the caller ACKs
  bye                   the caller hangs up
  session:SECONDS       from now on the callee's 2xx to INVITE carry
                        Session-Expires: SECONDS (RFC 4028); 0: none
  wait:NAME             hand over to the test (see above)
Prints one line per final response the caller got ("INVITE 200", ...)
and exits 0 when every step went as asked."""
import os
import random
import re
import socket
import sys
import time

TIMEOUT = 10


def parse(buf):
    end = buf.find(b'\r\n\r\n')
    if end < 0:
        return None
    m = re.search(rb'(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)', buf[:end])
    total = end + 4 + (int(m.group(1)) if m else 0)
    if len(buf) < total:
        return None
    return buf[:total], buf[total:]


def headers(msg, name):
    head = msg.split(b'\r\n\r\n', 1)[0].decode('latin-1')
    out = []
    for line in head.split('\r\n')[1:]:
        n, _, v = line.partition(':')
        if n.strip().lower() == name.lower():
            out.append(v.strip())
    return out


def first_line(msg):
    return msg.split(b'\r\n', 1)[0].decode('latin-1')


class Conn:
    def __init__(self, sock):
        self.s, self.buf = sock, b''
        self.s.settimeout(TIMEOUT)

    def send(self, data):
        self.s.sendall(data)

    def recv(self):
        while True:
            r = parse(self.buf)
            if r is not None:
                msg, self.buf = r
                return msg
            d = self.s.recv(65536)
            if not d:
                raise EOFError('connection closed')
            self.buf += d


def sdp(path):
    return b'' if path in (None, '-') else open(path, 'rb').read()


class Call:
    def __init__(self, pport, cport, eport, d):
        self.pport, self.cport, self.eport, self.dir = pport, cport, eport, d
        self.callid = '%08x@callflow' % random.getrandbits(32)
        self.ftag, self.ttag = 'caller%04x' % random.getrandbits(16), None
        self.cseq = 0
        self.routes = []
        self.remote = None  # the callee's Contact
        self.session = 0    # Session-Expires of the callee's 2xx to INVITE
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(('127.0.0.1', eport))
        ls.listen(4)
        self.ls = ls
        self.up = Conn(socket.create_connection(('127.0.0.1', pport)))
        self.down = None    # the connection the last request came on
        self.downs = []     # every connection from the proxy
        self.invite = None  # the INVITE as the callee got it

    def request(self, method, uri, body=b'', routes=True, branch=None,
                cseq=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = branch or 'z9hG4bK%08x' % random.getrandbits(32)
        h = ['%s %s SIP/2.0' % (method, uri),
             'Via: SIP/2.0/TCP 127.0.0.1:%d;branch=%s' % (self.cport, branch),
             'From: <sip:caller@example.com>;tag=%s' % self.ftag,
             'To: <sip:callee@example.com>' +
             (';tag=%s' % self.ttag if self.ttag else ''),
             'Call-ID: %s' % self.callid,
             'CSeq: %d %s' % (cseq, method),
             'Max-Forwards: 70',
             'Contact: <sip:caller@127.0.0.1:%d;transport=tcp>' % self.cport]
        if routes:
            h += ['Route: %s' % r for r in self.routes]
        if body:
            h.append('Content-Type: application/sdp')
        h.append('Content-Length: %d' % len(body))
        self.up.send(('\r\n'.join(h) + '\r\n\r\n').encode() + body)
        return branch, cseq

    def callee_recv(self):
        # The proxy may open a new connection for a later request: read
        # whichever has a message; answers go back on that one.
        import select
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            for c in self.downs:
                r = parse(c.buf)
                if r is not None:
                    msg, c.buf = r
                    if not first_line(msg).startswith('SIP/2.0'):
                        self.down = c
                        return msg
            rd, _, _ = select.select([self.ls] + [c.s for c in self.downs],
                                     [], [], 0.2)
            for s in rd:
                if s is self.ls:
                    n, _ = self.ls.accept()
                    self.downs.append(Conn(n))
                    continue
                c = [x for x in self.downs if x.s is s][0]
                d = s.recv(65536)
                if not d:
                    self.downs.remove(c)
                else:
                    c.buf += d
        raise EOFError('no request for the callee')

    def respond(self, req, code, phrase, body=b''):
        keep = []
        head = req.split(b'\r\n\r\n', 1)[0].decode('latin-1').split('\r\n')
        for line in head[1:]:
            n = line.split(':', 1)[0].strip().lower()
            if n in ('via', 'from', 'call-id', 'cseq', 'record-route'):
                keep.append(line)
            elif n == 'to':
                if ';tag=' not in line and code > 100:
                    self.ttag = self.ttag or 'callee%04x' % random.getrandbits(16)
                    line += ';tag=%s' % self.ttag
                keep.append(line)
        out = ['SIP/2.0 %d %s' % (code, phrase)] + keep
        out.append('Contact: <sip:callee@127.0.0.1:%d;transport=tcp>' % self.eport)
        if (self.session and 200 <= code < 300 and
                headers(req, 'CSeq')[0].split()[-1] == 'INVITE'):
            out.append('Session-Expires: %d;refresher=uac' % self.session)
        if body:
            out.append('Content-Type: application/sdp')
        out.append('Content-Length: %d' % len(body))
        self.down.send(('\r\n'.join(out) + '\r\n\r\n').encode() + body)

    def caller_final(self, method):
        while True:
            msg = self.up.recv()
            line = first_line(msg)
            if not line.startswith('SIP/2.0'):
                # a request to the caller (BYE from the callee): answer it
                self.up.send(b'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n')
                continue
            code = int(line.split()[1])
            cseq = headers(msg, 'CSeq')
            if cseq and cseq[0].split()[-1] != method:
                continue    # the CANCEL's own 200, say
            if code >= 200:
                print('%s %d' % (method, code))
                sys.stdout.flush()
                return msg, code

    def learn(self, resp):
        # the route set: Record-Route of the 2xx, reversed (RFC 3261 12.1.2)
        rr = []
        for v in headers(resp, 'Record-Route'):
            rr += [x.strip() for x in v.split(',')]
        self.routes = list(reversed(rr))
        contact = headers(resp, 'Contact')
        self.remote = contact[0].strip('<>') if contact else None


def step_invite(c, arg, state):
    state['invite_branch'], state['invite_cseq'] = c.request(
        'INVITE', 'sip:callee@127.0.0.1:%d;transport=tcp' % c.eport,
        sdp(arg), routes=False)
    c.invite = c.callee_recv()
    return True


def step_answer(c, arg, state):
    parts = arg.split(':', 1)
    code = int(parts[0])
    c.respond(c.invite, 180, 'Ringing')
    body = sdp(parts[1]) if len(parts) > 1 else b''
    c.respond(c.invite, code, 'OK' if code < 300 else 'Busy Here', body)
    resp, got = c.caller_final('INVITE')
    if got < 300:
        c.learn(resp)
    else:
        c.callee_recv()   # the proxy's ACK for the failure, hop by hop
    return got == code


def step_cancel(c, arg, state):
    c.respond(c.invite, 180, 'Ringing')
    time.sleep(0.2)
    # A CANCEL's To is the INVITE's, without the tag a 180 brought.
    ttag, c.ttag = c.ttag, None
    c.request('CANCEL', 'sip:callee@127.0.0.1:%d;transport=tcp' % c.eport,
              routes=False, branch=state['invite_branch'],
              cseq=state['invite_cseq'])
    c.ttag = ttag
    # the CANCEL's 200 and, from the callee, 487 for the INVITE
    cancel = c.callee_recv()
    c.respond(cancel, 200, 'OK')
    c.respond(c.invite, 487, 'Request Terminated')
    _, got = c.caller_final('INVITE')
    return got == 487


def step_ack(c, arg, state):
    c.request('ACK', c.remote, sdp(arg) if arg else b'',
              cseq=state['invite_cseq'])
    c.cseq = state['invite_cseq']
    c.callee_recv()
    return True


def step_reinvite(c, arg, state):
    offer, answer = arg.split(':', 1)
    _, cseq = c.request('INVITE', c.remote, sdp(offer))
    req = c.callee_recv()
    c.respond(req, 200, 'OK', sdp(answer))
    _, got = c.caller_final('INVITE')
    c.request('ACK', c.remote, cseq=cseq)
    c.cseq = cseq
    c.callee_recv()
    return got == 200


def step_bye(c, arg, state):
    c.request('BYE', c.remote)
    req = c.callee_recv()
    c.respond(req, 200, 'OK')
    _, got = c.caller_final('BYE')
    return got == 200


def step_session(c, arg, state):
    c.session = int(arg)
    return True


def step_wait(c, arg, state):
    open(os.path.join(c.dir, arg + '.ready'), 'w').close()
    go = os.path.join(c.dir, arg + '.go')
    deadline = time.time() + 60
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.02)
    return os.path.exists(go)


STEPS = {'invite': step_invite, 'answer': step_answer, 'cancel': step_cancel,
         'ack': step_ack, 'reinvite': step_reinvite, 'bye': step_bye,
         'wait': step_wait, 'session': step_session}


def main():
    pport, cport, eport, d = (int(sys.argv[1]), int(sys.argv[2]),
                              int(sys.argv[3]), sys.argv[4])
    c = Call(pport, cport, eport, d)
    state = {}
    for s in sys.argv[5:]:
        name, _, arg = s.partition(':')
        try:
            ok = STEPS[name](c, arg, state)
        except (OSError, EOFError) as e:
            print('step %s failed: %s' % (s, e))
            return 1
        if not ok:
            print('step %s did not go as asked' % s)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
