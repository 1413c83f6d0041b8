#!/usr/bin/env python3
"""Both ends of one INVITE dialog over TCP, for responses the proxy
inspects (digest section 5.2): the UAS answers 200 OK with a given body and
extra headers (a label, a Content-ID), and both ends record any BYE.

usage:
  dialog.py uas PORT DIR BODYFILE CONTENT-TYPE HEADERFILE [TIMEOUT]
      Listen on 127.0.0.1:PORT (TCP). Answer INVITE 200 OK copying Via,
      Record-Route, From, To (adding a tag), Call-ID and CSeq, with a
      Contact, the header lines of HEADERFILE (CRLF-terminated, may be
      empty), CONTENT-TYPE and the bytes of BODYFILE. Answer BYE and other
      requests 200 OK. Writes DIR/uas.invite, DIR/uas.ack, DIR/uas.bye (whole
      messages as received). Exits after TIMEOUT seconds (default 20).
  dialog.py uac PROXYPORT LOCALPORT REQFILE DIR [WAIT [ACKBODY CONTENT-TYPE HEADERFILE]]
      Listen on 127.0.0.1:LOCALPORT (TCP, the port of the INVITE's Contact),
      send the INVITE in REQFILE to the proxy over TCP, save the final
      response as DIR/uac.final and print its status line; after a 2xx send
      the ACK (Route from the Record-Route, reversed; request-URI from the
      Contact; with ACKBODY, that body, CONTENT-TYPE and the header lines of
      HEADERFILE) and wait up to WAIT seconds (default 3) for a BYE, on the
      connection to the proxy or the listening port. A BYE is answered
      200 OK, saved as DIR/uac.bye, and "BYE received" is printed.
"""
import os
import random
import select
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from challenge import (one, read_messages, save_response, split_message,  # noqa: E402
                       status_code, values)


def wait_scale():
    """E2M_WAIT_SCALE: lib.sh's factor on the bounds of waits."""
    try:
        return max(1, int(os.environ.get('E2M_WAIT_SCALE', '1')))
    except ValueError:
        return 1


def reply(msg, code, phrase, extra=b'', body=b'', tag=None):
    start, hdrs, _ = split_message(msg)
    out = ['SIP/2.0 %d %s' % (code, phrase)]
    for v in values(hdrs, 'via'):
        out.append('Via: ' + v)
    for v in values(hdrs, 'record-route'):
        out.append('Record-Route: ' + v)
    out.append('From: ' + one(hdrs, 'from'))
    to = one(hdrs, 'to')
    if tag and ';tag=' not in to:
        to += ';tag=' + tag
    out.append('To: ' + to)
    out.append('Call-ID: ' + one(hdrs, 'call-id'))
    out.append('CSeq: ' + one(hdrs, 'cseq'))
    head = ('\r\n'.join(out) + '\r\n').encode('latin-1') + extra
    return head + b'Content-Length: %d\r\n\r\n' % len(body) + body


def save(path, data):
    """Whole or not at all: a test polls for the file."""
    with open(path + '.tmp', 'wb') as f:
        f.write(data)
    os.replace(path + '.tmp', path)


def serve(ls, conns, bufs, timeout):
    """Messages arriving on any connection within timeout: (conn, msg)."""
    r, _, _ = select.select([ls] + conns, [], [], timeout)
    got = []
    for c in r:
        if c is ls:
            a, _ = ls.accept()
            conns.append(a)
            bufs[a] = b''
            continue
        try:
            d = c.recv(65536)
        except OSError:
            d = b''
        if not d:
            conns.remove(c)
            continue
        bufs[c] += d
        msgs, bufs[c] = read_messages(bufs[c])
        got.extend((c, m) for m in msgs)
    return got


def listener(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(8)
    return ls


def uas(args):
    port, d, bodyf, ctype, hdrf = int(args[0]), args[1], args[2], args[3], args[4]
    deadline = time.time() + (float(args[5]) if len(args) > 5 else 20)
    body = open(bodyf, 'rb').read()
    extra = open(hdrf, 'rb').read()
    ls = listener(port)
    conns, bufs = [], {}
    while time.time() < deadline:
        for c, m in serve(ls, conns, bufs, 0.2):
            if m.startswith(b'SIP/2.0'):
                continue
            method = m.split(b' ', 1)[0].decode()
            if method == 'INVITE':
                save(os.path.join(d, 'uas.invite'), m)
                contact = b'Contact: <sip:bob@127.0.0.1:%d;transport=tcp>\r\n' % port
                c.sendall(reply(m, 200, 'OK', contact + extra +
                                b'Content-Type: ' + ctype.encode() + b'\r\n', body, 'uas-tag'))
            elif method == 'ACK':
                save(os.path.join(d, 'uas.ack'), m)
            else:
                if method == 'BYE':
                    save(os.path.join(d, 'uas.bye'), m)
                c.sendall(reply(m, 200, 'OK', tag='uas-tag'))
    return 0


def uac(args):
    pport, lport, reqf, d = int(args[0]), int(args[1]), args[2], args[3]
    wait = float(args[4]) if len(args) > 4 else 3
    ackbody, ackextra = b'', b''
    if len(args) > 7:
        ackbody = open(args[5], 'rb').read()
        ackextra = b'Content-Type: ' + args[6].encode() + b'\r\n' + open(args[7], 'rb').read()
    req = open(reqf, 'rb').read()
    ls = listener(lport)
    s = socket.create_connection(('127.0.0.1', pport), timeout=5)
    conns, bufs = [s], {s: b''}
    s.sendall(req)
    final = None
    # A bound for a loaded machine (ASan, 2 cores), not an expectation.
    deadline = time.time() + 20 * wait_scale()
    bye = None
    while final is None and time.time() < deadline:
        for c, m in serve(ls, conns, bufs, 0.2):
            if m.startswith(b'SIP/2.0'):
                code = status_code(m.split(b'\r\n', 1)[0].decode('latin-1'))
                if code is not None and code >= 200 and final is None:
                    final = m
            elif m.startswith(b'BYE '):
                bye = (c, m)
    if final is None:
        print('TIMEOUT')
        return 1
    save_response(os.path.join(d, 'uac.final'), final)
    start, rh, _ = split_message(final)
    print(start)
    if 200 <= status_code(start) < 300:
        _, qh, _ = split_message(req)
        contact = one(rh, 'contact') or ''
        ruri = contact[contact.find('<') + 1:contact.find('>')] if '<' in contact else contact
        lines = ['ACK %s SIP/2.0' % ruri,
                 'Via: SIP/2.0/TCP 127.0.0.1:%d;rport;branch=z9hG4bK-ack-%d' % (
                     lport, random.randrange(1 << 30))]
        for r in reversed(values(rh, 'record-route')):
            lines.append('Route: ' + r)
        lines += ['From: ' + one(qh, 'from'), 'To: ' + one(rh, 'to'),
                  'Call-ID: ' + one(qh, 'call-id'),
                  'CSeq: %s ACK' % one(qh, 'cseq').split()[0], 'Max-Forwards: 70']
        s.sendall(('\r\n'.join(lines) + '\r\n').encode('latin-1') + ackextra +
                  b'Content-Length: %d\r\n\r\n' % len(ackbody) + ackbody)
        deadline = time.time() + wait
        while bye is None and time.time() < deadline:
            for c, m in serve(ls, conns, bufs, 0.2):
                if m.startswith(b'BYE '):
                    bye = (c, m)
    if bye is not None:
        save(os.path.join(d, 'uac.bye'), bye[1])
        bye[0].sendall(reply(bye[1], 200, 'OK'))
        time.sleep(0.1)
        print('BYE received')
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ('uas', 'uac'):
        print(__doc__, file=sys.stderr)
        return 2
    return uas(sys.argv[2:]) if sys.argv[1] == 'uas' else uac(sys.argv[2:])


if __name__ == '__main__':
    sys.exit(main())
