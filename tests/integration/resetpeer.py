#!/usr/bin/env python3
"""Peers that reset TCP or TLS connections mid-transaction (SO_LINGER 0:
the close sends a RST, nothing is flushed), for the fault tests.

callee tcp|tls PORT DIR [CERT KEY]: a UAS. The user part of each
request's URI says what it does: "rst" resets the connection as soon as
the request is read; "rst180" sends 180 Ringing, waits until the caller
has it (DIR/<Call-ID>.180, see MARKDIR below), resets, waits until the
caller has its final response (DIR/<Call-ID>.500; at most 5 s: the 200
must come after the proxy ended the transaction, or which of the two the
proxy reads first would be a race), then opens a new connection to the
top Via (received/rport, else sent-by; RFC 3261 18.2.2) and sends its 200
there; "slow" answers 200 after 1.5 s, "slowN" after N
ms; "trying" sends 100 Trying and then nothing, not even to a CANCEL (a
hung next hop), "ringing" the same with 180 Ringing; anything else answers 200 at once. ACKs are taken silently. Each request read leaves
DIR/<Call-ID> (so a test can wait for it). Runs until killed.

caller tcp|tls PORT FILE UNTIL [WAIT]: send FILE (one request) to the
proxy, wait until a message beginning with UNTIL arrives (e.g. "SIP/2.0
100"; "final": any final response) or, for UNTIL "file:PATH",
until PATH exists, then reset the
connection. Prints what it waited for, or TIMEOUT (WAIT seconds, 5).
With MARKDIR set, each response it gets leaves MARKDIR/<Call-ID>.<code>;
with TIMED set, the milliseconds from sending to the end follow.

cancel tcp PORT FILE AFTER_MS [WAIT]: send FILE (an INVITE), wait for a
provisional response other than 100 (one the next hop sent: the proxy
has it), AFTER_MS later send its CANCEL, and print the
CANCEL's status code, the INVITE's final status code and the milliseconds
from the CANCEL to that final response (or TIMEOUT)."""
import os
import re
import select
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uas import parse, answer  # noqa: E402


def reset(s):
    """Close with a RST: SO_LINGER on, 0 seconds."""
    raw = s
    try:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except OSError:
        pass
    raw.close()


def headers(head, names):
    """The header lines of head (a request's or response's head) named in
    names (lower case, compact forms included), in their order."""
    return [l for l in head.split('\r\n')[1:]
            if l.split(':', 1)[0].strip().lower() in names]


def call_id(head):
    return re.search(r'(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)', head).group(1)


def client_context():
    """TLS towards a peer whose certificate is not checked (the tests'
    throwaway PKI: what is tested is the reset, not the names)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def messages(buf):
    """The whole SIP messages at the start of buf, as (head, body) pairs,
    and the bytes after them (a message not yet complete)."""
    out = []
    while True:
        m = parse(buf)
        if m is None:
            return out, buf
        head, body, buf = m
        out.append((head, body))


def wait_for(path, deadline):
    """Poll (20 ms) until path exists or deadline (time.time()) passes."""
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.02)
    return os.path.exists(path)


# The users that only answer with a provisional response (and then
# nothing, not even to a CANCEL: a hung next hop)
HANG = {'trying': 'SIP/2.0 100 Trying', 'ringing': 'SIP/2.0 180 Ringing'}


def provisional(head, code):
    keep = headers(head, ('via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq'))
    keep = [l + ';tag=uas' if l.lower().startswith(('to:', 't:')) and
            ';tag=' not in l else l for l in keep]
    return (code + '\r\n' + '\r\n'.join(keep) +
            '\r\nContent-Length: 0\r\n\r\n').encode('latin-1')


def via_target(head):
    """Where a response goes when its connection is gone (RFC 3261 18.2.2)."""
    v = re.search(r'(?im)^(?:via|v)[ \t]*:[ \t]*SIP/2.0/\w+[ \t]+([^;,\s]+)([^,\r\n]*)', head)
    host, _, port = v.group(1).partition(':')
    params = v.group(2)
    m = re.search(r';received=([^;,\s]+)', params)
    if m:
        host = m.group(1)
    m = re.search(r';rport=(\d+)', params)
    return host, int(m.group(1)) if m else int(port or 5060)


def callee(proto, port, directory, cert=None, key=None):
    ctx = None
    if proto == 'tls':
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    cctx = client_context()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(64)
    conns, bufs, later = [], {}, []
    while True:
        now = time.time()
        for item in [x for x in later if x[0] <= now]:
            later.remove(item)
            try:
                item[1].sendall(item[2])
            except OSError:
                pass
        r, _, _ = select.select([ls] + conns, [], [], 0.05)
        for c in r:
            if c is ls:
                a, _ = ls.accept()
                if ctx is not None:
                    try:
                        a.settimeout(5)
                        a = ctx.wrap_socket(a, server_side=True)
                    except (OSError, ssl.SSLError):
                        a.close()
                        continue
                # Non-blocking: readable may be TLS 1.3's session ticket
                # alone, and a blocking read would wait for more.
                a.setblocking(False)
                conns.append(a)
                bufs[a] = b''
                continue
            try:
                d = c.recv(65536)
                while isinstance(c, ssl.SSLSocket) and c.pending():
                    d += c.recv(65536)
            except ssl.SSLWantReadError:
                continue
            except (OSError, ssl.SSLError):
                d = b''
            if not d:
                conns.remove(c)
                c.close()
                continue
            got, bufs[c] = messages(bufs[c] + d)
            for head, _ in got:
                if c not in conns:
                    break  # reset: what followed is lost with it
                if head.startswith(('SIP/2.0', 'ACK')):
                    continue
                cid = call_id(head)
                open(os.path.join(directory, cid), 'w').close()
                user = re.match(r'\S+ sips?:([^@;>\s]+)@', head)
                user = user.group(1) if user else ''
                if user == 'rst':
                    conns.remove(c)
                    reset(c)
                elif user == 'rst180':
                    c.sendall(provisional(head, 'SIP/2.0 180 Ringing'))
                    wait_for(os.path.join(directory, cid + '.180'), time.time() + 5)
                    conns.remove(c)
                    reset(c)
                    wait_for(os.path.join(directory, cid + '.500'), time.time() + 5)
                    try:
                        n = socket.create_connection(via_target(head), timeout=5)
                        if proto == 'tls':
                            n = cctx.wrap_socket(n)
                        n.sendall(answer(head))
                        n.setblocking(False)
                    except (OSError, ssl.SSLError) as e:
                        print('cannot answer over a new connection to %s: %s' %
                              (via_target(head), e), file=sys.stderr, flush=True)
                        continue
                    conns.append(n)
                    bufs[n] = b''
                elif user.startswith('slow'):
                    later.append((time.time() + int(user[4:] or 1500) / 1000.0,
                                  c, answer(head)))
                elif user in HANG:
                    c.sendall(provisional(head, HANG[user]))
                else:
                    c.sendall(answer(head))


def caller(proto, port, path, until, wait):
    s = socket.create_connection(('127.0.0.1', port), timeout=wait)
    if proto == 'tls':
        s = client_context().wrap_socket(s)
    s.sendall(open(path, 'rb').read())
    t0 = time.time()
    deadline = t0 + wait
    buf, got = b'', None
    while got is None and time.time() < deadline:
        if until.startswith('file:'):
            if wait_for(until[5:], deadline):
                got = until
            continue
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            d = s.recv(65536)
        except (socket.timeout, ssl.SSLError):
            continue
        if not d:
            break
        got_msgs, buf = messages(buf + d)
        for head, _ in got_msgs:
            line = head.split('\r\n', 1)[0]
            if os.environ.get('MARKDIR'):
                open(os.path.join(os.environ['MARKDIR'], '%s.%s' % (
                    call_id(head), line.split(' ')[1])), 'w').close()
            if head.startswith(until) or (until == 'final' and
                                          re.match(r'SIP/2.0 [2-6]', line)):
                got = line
    reset(s)
    if os.environ.get('TIMED'):
        print(got or 'TIMEOUT', int((time.time() - t0) * 1000))
    else:
        print(got or 'TIMEOUT')


def cancel(port, path, after_ms, wait):
    invite = open(path, 'rb').read().decode('latin-1')
    head = invite.split('\r\n\r\n', 1)[0]
    keep = headers(head, ('via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'max-forwards'))
    cseq = re.search(r'(?im)^cseq[ \t]*:[ \t]*(\d+)', invite).group(1)
    req = ('CANCEL ' + head.split(' ')[1] + ' SIP/2.0\r\n' + '\r\n'.join(keep) +
           '\r\nCSeq: %s CANCEL\r\nContent-Length: 0\r\n\r\n' % cseq)
    s = socket.create_connection(('127.0.0.1', port), timeout=wait)
    s.sendall(invite.encode('latin-1'))
    deadline = time.time() + wait
    buf, sent_at, cancel_code, final = b'', None, '-', None
    while final is None and time.time() < deadline:
        if sent_at is None and cancel_code == 'due' and time.time() >= due:
            s.sendall(req.encode('latin-1'))
            sent_at = time.time()
        s.settimeout(0.02)
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            break
        got_msgs, buf = messages(buf + d)
        for h, _ in got_msgs:
            code = h.split(' ', 2)[1]
            if re.search(r'(?im)^cseq[ \t]*:[ \t]*\d+ CANCEL', h):
                cancel_code = code
            elif code.startswith('1') and code != '100' and cancel_code == '-':
                cancel_code, due = 'due', time.time() + after_ms / 1000.0
            elif not code.startswith('1'):
                final = code
    if final is None:
        print(cancel_code, 'TIMEOUT')
    else:
        print(cancel_code, final, int((time.time() - (sent_at or time.time())) * 1000))
    reset(s)


def main():
    role, proto, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if role == 'cancel':
        cancel(port, sys.argv[4], int(sys.argv[5]),
               float(sys.argv[6]) if len(sys.argv) > 6 else 20)
    elif role == 'callee':
        callee(proto, port, sys.argv[4], *sys.argv[5:7])
    else:
        caller(proto, port, sys.argv[4], sys.argv[5],
               float(sys.argv[6]) if len(sys.argv) > 6 else 5)


if __name__ == '__main__':
    main()
