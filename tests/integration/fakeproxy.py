#!/usr/bin/env python3
"""An attacker on the path for e2mua's tests (digest 4.6, R1, R7): a TCP
SIP "proxy" on 127.0.0.1 that the UA's outbound proxy (-o) points at.

usage: fakeproxy.py PORT OUTDIR relay UPSTREAM-PORT [--set-warning VALUE]
                    [--set-header NAME VALUE] [--replay-496] [TIMEOUT]
       fakeproxy.py PORT OUTDIR forge CAPTURED [--cert DER] [--sign CERT KEY]
                    [--chain PEM] [--agent HOST] [--unsigned] [--frag-sub PATTERN REPL]...
                    [--date-offset SECONDS] [--sign-time-offset SECONDS]
                    [TIMEOUT]
       fakeproxy.py PORT OUTDIR replay CAPTURED [TIMEOUT]

relay   passes every request byte for byte to 127.0.0.1:UPSTREAM-PORT (one
        upstream connection per client connection) and every response
        back; each 496 that passes is also saved as OUTDIR/496-N.sip. This
        is how a genuine signed challenge is captured (and the control:
        through the relay, e2mua must succeed). --set-warning replaces the
        Warning header of each 496 on its way back by VALUE (the signed
        body is left alone); --set-header does the same for header NAME,
        and an empty VALUE removes it. --replay-496: once a 496 has passed, later
        requests are not passed on but answered with it as replay does
        (a replay inside the same call: Call-ID and From tag match).
forge   answers every request with a 496 built from the genuine one in
        CAPTURED: the signed message/sipfrag is rewritten to match this
        request (Via values, From, To, Call-ID, CSeq, a current Date) and
        the response's own headers are made equal to it, so the freshness
        checks pass and only the proxy's signature is wrong. --cert also
        replaces the application/pkix-cert part by that certificate (DER);
        --agent HOST puts HOST as warn-agent into every Warning (signed
        and not); --sign signs the new first part with CERT and KEY (PEM,
        openssl cms -sign, detached) instead of keeping the proxy's
        signature bytes; --chain adds the certificates of PEM to that
        signature (-certfile: intermediate CAs). --unsigned instead answers with the draft's
        literal form: the certificate alone as application/pkix-cert, with
        the captured Warning.
replay  answers every request with CAPTURED unchanged except the SIP
        headers Sofia needs to match it to the UA's transaction: Via,
        From, Call-ID and CSeq. To, Date, Warning and the signed body stay
        as captured (a genuine challenge of another transaction).

Every request received (not ACK) is stored as OUTDIR/req-N.sip, N from 1;
OUTDIR/ready is created once listening. Runs until TIMEOUT seconds (30 by
default) have passed or it is killed.
"""
import os
import re
import select
import socket
import subprocess
import sys
import time
from email.utils import formatdate

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from challenge import (mime_params, one, read_messages, split_message,  # noqa: E402
                       values)


def header_lines(msg):
    """(start line, [raw header lines], body) with folded lines joined."""
    end = msg.find(b'\r\n\r\n')
    lines = msg[:end].decode('latin-1').split('\r\n')
    out = []
    for line in lines[1:]:
        if line[:1] in (' ', '\t') and out:
            out[-1] += ' ' + line.strip()
        else:
            out.append(line)
    return lines[0], out, msg[end + 4:]


def hname(line):
    n = line.split(':', 1)[0].strip().lower()
    return {'v': 'via', 'f': 'from', 't': 'to', 'i': 'call-id',
            'l': 'content-length', 'c': 'content-type'}.get(n, n)


def tag_of(value):
    m = re.search(r';\s*tag\s*=\s*([^;,\s]+)', value.split('>')[-1], re.I)
    return m.group(1) if m else None


def sip_date():
    return formatdate(time.time(), usegmt=True)


def build(start, hdrs, body):
    """A SIP message from a start line, [(name, value)] and body bytes."""
    head = [start] + ['%s: %s' % h for h in hdrs]
    head.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(head) + '\r\n\r\n').encode('latin-1') + body


def signed_layout(resp):
    """Positions in the captured body: (body, sipfrag start, sipfrag end,
    cert start, cert end). The sipfrag and the certificate are found by
    the boundary of the inner multipart/mixed, as the proxy lays them out
    (digest 4.6)."""
    _, hdrs, body = split_message(resp)
    _, ps = mime_params(one(hdrs, 'content-type'))
    outer = ps['boundary'].encode('latin-1')
    first = body.index(b'--' + outer)
    m = re.search(rb'(?i)boundary="?([^";\r\n]+)"?', body[first:])
    mix = b'--' + m.group(1)
    p1 = body.index(mix + b'\r\n', first)           # sipfrag part
    f0 = body.index(b'\r\n\r\n', p1) + 4
    f1 = body.index(b'\r\n' + mix, f0)
    p2 = f1 + 2                                      # pkix-cert part
    c0 = body.index(b'\r\n\r\n', p2) + 4
    c1 = body.index(b'\r\n' + mix + b'--', c0)
    return body, f0, f1, c0, c1


def resign(part, signer, time_offset=0):
    """A detached CMS SignedData (DER) over part by signer (cert, key),
    signed time_offset seconds from now (faketime)."""
    cmd = ['openssl', 'cms', '-sign', '-binary', '-md', 'sha256',
           '-signer', signer[0], '-inkey', signer[1], '-outform', 'DER']
    if signer[2]:
        cmd += ['-certfile', signer[2]]
    if time_offset:
        cmd = ['faketime', '-f', '%+ds' % time_offset] + cmd
    r = subprocess.run(cmd, input=part, capture_output=True, check=True)
    return r.stdout


def warn_agent(value, agent):
    return re.sub(r'^(\d{3}) \S+ ', r'\1 ' + agent + ' ', value) if agent else value


def forged(req, captured, cert, signer, agent, subs=(), date_offset=0,
           sign_offset=0):
    """The captured 496 rewritten for req; see the module comment."""
    _, rh, _ = header_lines(req)
    cstart, ch, _ = header_lines(captured)
    body, f0, f1, c0, c1 = signed_layout(captured)
    fstart, fh, fbody = header_lines(body[f0:f1] + b'\r\n\r\n')
    _, qh, _ = split_message(req)
    tag = tag_of(one(split_message(captured)[1], 'to')) or 'forged'
    date = formatdate(time.time() + date_offset, usegmt=True)
    new = {
        'from': one(qh, 'from'),
        'to': re.sub(r';\s*tag=[^;]*', '', one(qh, 'to')) + ';tag=' + tag,
        'call-id': one(qh, 'call-id'),
        'cseq': one(qh, 'cseq'),
        'date': date,
    }
    frag = [fstart]
    vias_done = False
    for line in fh:
        n = hname(line)
        if n == 'via':
            if not vias_done:
                frag += ['Via: %s' % v for v in values(qh, 'via')]
                vias_done = True
        elif n in new:
            frag.append('%s: %s' % (line.split(':', 1)[0], new[n]))
        elif n == 'warning':
            frag.append('Warning: %s' % warn_agent(line.split(':', 1)[1].strip(), agent))
        else:
            frag.append(line)
    # The proxy's sipfrag ends with CRLF after its last header.
    tail = body[f0:f1][len(body[f0:f1].rstrip(b'\r\n')):]
    fragtext = '\r\n'.join(frag)
    for pat, repl in subs:
        if repl == '@upper':
            repl = lambda m: m.group(0).upper()  # noqa: E731
        fragtext, n = re.subn(pat, repl, fragtext, flags=re.M)
        if n == 0:
            sys.exit('--frag-sub %r matched nothing' % pat)
    newfrag = fragtext.encode('latin-1') + tail
    certbytes = cert if cert is not None else body[c0:c1]
    newbody = body[:f0] + newfrag + body[f1:c0] + certbytes + body[c1:]
    if signer is not None:
        # The signed first part runs from the line after the outer
        # boundary to the CRLF before the next one (RFC 1847).
        _, ps = mime_params(one(split_message(captured)[1], 'content-type'))
        sig = b'--' + ps['boundary'].encode('latin-1')
        p0 = newbody.index(sig + b'\r\n') + len(sig) + 2
        p1 = newbody.index(b'\r\n' + sig, p0)
        s0 = newbody.index(b'\r\n\r\n', p1 + 2) + 4
        s1 = newbody.index(b'\r\n' + sig + b'--', s0)
        newbody = newbody[:s0] + resign(newbody[p0:p1], signer, sign_offset) + newbody[s1:]
    out = []
    for name, value in split_message(captured)[1]:
        n = hname(name)
        if n == 'content-length':
            continue
        if n == 'via':
            continue
        if n == 'warning':
            value = ', '.join(warn_agent(v, agent) for v in values([(name, value)], 'warning'))
        out.append((name, new.get(n, value)))
    vias = [('Via', v) for v in values(qh, 'via')]
    return build(cstart, vias + out, newbody)


def unsigned(req, captured):
    """The draft-literal 496: only the captured certificate, unsigned."""
    _, qh, _ = split_message(req)
    cstart, ch, _ = split_message(captured)
    body, _, _, c0, c1 = signed_layout(captured)
    out = [('Via', v) for v in values(qh, 'via')]
    out += [('From', one(qh, 'from')), ('To', one(ch, 'to')),
            ('Call-ID', one(qh, 'call-id')), ('CSeq', one(qh, 'cseq')),
            ('Date', sip_date())]
    out += [('Warning', w) for w in values(ch, 'warning')]
    out.append(('Content-Type', 'application/pkix-cert'))
    return build(cstart, out, body[c0:c1])


def set_header(resp, header, value):
    """resp with its header(s) named header replaced by one with value
    (none when value is empty)."""
    start, hdrs, body = split_message(resp)
    out, done = [], False
    for name, v in hdrs:
        n = hname(name)
        if n == 'content-length':
            continue
        if n == header.lower():
            if not done and value:
                out.append((name, value))
            done = True
            continue
        out.append((name, v))
    return build(start, out, body)


def replayed(req, captured):
    """The captured 496 with only Via, From, Call-ID and CSeq taken from
    req: enough for Sofia to match the transaction, nothing else."""
    _, qh, _ = split_message(req)
    cstart, ch, body = split_message(captured)
    take = {'from': one(qh, 'from'), 'call-id': one(qh, 'call-id'),
            'cseq': one(qh, 'cseq')}
    out = [('Via', v) for v in values(qh, 'via')]
    for name, value in ch:
        n = hname(name)
        if n in ('via', 'content-length'):
            continue
        out.append((name, take.get(n, value)))
    return build(cstart, out, body)


def main():
    port, outdir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    upstream = captured = cert = signer = agent = warning = None
    subs, date_offset, setheaders, sign_offset = [], 0, [], 0
    bare = replay_later = False
    if mode == 'relay':
        upstream = int(args.pop(0))
        while args and args[0].startswith('--'):
            opt = args.pop(0)
            if opt == '--set-warning':
                warning = args.pop(0)
            elif opt == '--set-header':
                setheaders.append((args.pop(0), args.pop(0)))
            elif opt == '--replay-496':
                replay_later = True
            else:
                print(__doc__, file=sys.stderr)
                return 2
    elif mode == 'forge':
        captured = open(args.pop(0), 'rb').read()
        while args and args[0].startswith('--'):
            opt = args.pop(0)
            if opt == '--cert':
                cert = open(args.pop(0), 'rb').read()
            elif opt == '--sign':
                signer = (args.pop(0), args.pop(0), None)
            elif opt == '--chain' and signer is not None:
                signer = signer[:2] + (args.pop(0),)
            elif opt == '--agent':
                agent = args.pop(0)
            elif opt == '--unsigned':
                bare = True
            elif opt == '--frag-sub':
                subs.append((args.pop(0), args.pop(0)))
            elif opt == '--date-offset':
                date_offset = float(args.pop(0))
            elif opt == '--sign-time-offset':
                sign_offset = int(args.pop(0))
            else:
                print(__doc__, file=sys.stderr)
                return 2
    elif mode == 'replay':
        captured = open(args.pop(0), 'rb').read()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    deadline = time.time() + (float(args[0]) if args else 30)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(8)
    open(os.path.join(outdir, 'ready'), 'w').close()
    nreq = n496 = 0
    bufs = {}    # socket -> bytes not yet parsed
    peer = {}    # client socket <-> upstream socket (relay)
    clients = set()
    while time.time() < deadline:
        r, _, _ = select.select([ls] + list(bufs), [], [], 0.2)
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                bufs[c] = b''
                clients.add(c)
                continue
            try:
                d = s.recv(65536)
            except OSError:
                d = b''
            if not d:
                other = peer.pop(s, None)
                bufs.pop(s, None)
                s.close()
                if other is not None:
                    peer.pop(other, None)
                    bufs.pop(other, None)
                    other.close()
                continue
            msgs, bufs[s] = read_messages(bufs[s] + d)
            for m in msgs:
                start = m.split(b'\r\n', 1)[0]
                if s not in clients:          # from upstream: a response
                    if start.startswith(b'SIP/2.0 496 '):
                        n496 += 1
                        with open(os.path.join(outdir, '496-%d.sip' % n496), 'wb') as f:
                            f.write(m)
                        if warning is not None:
                            m = set_header(m, 'warning', warning)
                        for hn, hv in setheaders:
                            m = set_header(m, hn, hv)
                    if s in peer:
                        peer[s].sendall(m)
                    continue
                if start.startswith(b'SIP/2.0') or start.startswith(b'ACK '):
                    if mode == 'relay' and s in peer:
                        peer[s].sendall(m)
                    continue
                nreq += 1
                with open(os.path.join(outdir, 'req-%d.sip' % nreq), 'wb') as f:
                    f.write(m)
                if mode == 'relay' and replay_later and n496 > 0:
                    first = open(os.path.join(outdir, '496-1.sip'), 'rb').read()
                    s.sendall(replayed(m, first))
                elif mode == 'relay':
                    if s not in peer:
                        u = socket.create_connection(('127.0.0.1', upstream))
                        peer[s], peer[u] = u, s
                        bufs[u] = b''
                    peer[s].sendall(m)
                elif mode == 'forge' and bare:
                    s.sendall(unsigned(m, captured))
                elif mode == 'forge':
                    s.sendall(forged(m, captured, cert, signer, agent,
                                     subs, date_offset, sign_offset))
                else:
                    s.sendall(replayed(m, captured))
    return 0


if __name__ == '__main__':
    sys.exit(main())
