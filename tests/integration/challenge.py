#!/usr/bin/env python3
"""Send SIP requests and check the proxy's signed 495/496 challenges
(E2M-SIGNED-CHALLENGE, digest section 4.6) as a user agent would.

usage:
  challenge.py send udp|tcp PORT REQFILE OUTFILE [WAIT] [--bind ADDR[:PORT]] [--no-ack]
      Send the request bytes to 127.0.0.1:PORT, save the first final
      response (headers and body, byte-exact) to OUTFILE, its body to
      OUTFILE.body, its Warning values (one a line) to OUTFILE.warning and
      its Content-Type to OUTFILE.content-type (empty files when absent),
      and print its status line (TIMEOUT when none came). A non-2xx final response to an
      INVITE is acknowledged (hop-by-hop ACK) unless --no-ack.
  challenge.py burst udp|tcp PORT TEMPLATE COUNT OUTDIR [WAIT] [--bind ADDR]
                     [--gap SECONDS [--until FILE]]
      COUNT copies of TEMPLATE with @N@ replaced by 0..COUNT-1, sent back to
      back (one TCP connection, or one UDP socket), or one every SECONDS
      with --gap; with --until, no more are sent once FILE exists (COUNT
      is then the most sent). Each final response is saved as
      OUTDIR/N.resp (matched by Call-ID); prints "N CODE" lines for the
      requests sent, "N TIMEOUT" for those that got no final response.
  challenge.py check REQFILE RESPFILE CAFILE ENCCERT OUTDIR [--signer CERT]
                     [--skew SECONDS] [--base64] [--once]
      Check a 495/496 challenge against the request that caused it: the
      multipart/signed layout, the sipfrag (status line, Via, From, To,
      Call-ID, CSeq, Date, Warning), the certificate part, and the
      signature with the openssl command line (against CAFILE; the signer
      must be CERT with --signer). Writes OUTDIR/part1.bin, sig.der,
      sipfrag.txt, cert.der, signer.pem. Prints "PASS what" / "FAIL what:
      detail" lines; exit status 0 only when nothing failed. --base64 also
      demands base64 parts and verifies the body as S/MIME (openssl cms
      -verify -in) with a Content-Type line in front. --once
      (challenge.certificate_once): the SignedData must NOT carry the
      certificate of the body's certificate part, and openssl gets that
      certificate with -certfile, as a UA takes it from the body.
  challenge.py normalise REQFILE RESPFILE OUTFILE
      The response with everything that must differ between two challenges
      (To tag, Date, boundaries, signature, Content-Length, the request's
      Call-ID, From tag and Via branches) replaced by fixed markers.
  challenge.py each DIR NAME... -- COMMAND ARGS...
      Run COMMAND (send, check, normalise) once per NAME in this one
      process, every "@" in ARGS replaced by DIR/NAME; its output goes to
      DIR/NAME.COMMAND.out and its exit status to DIR/NAME.COMMAND.rc.
      Requests are sent one after the other, not concurrently.
  challenge.py header FILE NAME
      Every value of header NAME (comma-separated values split), one a line.
  challenge.py body FILE OUTFILE
      The body of the SIP message in FILE (Content-Length bytes).
"""
import base64
import calendar
import os
import re
import select
import socket
import sys
import time

COMPACT = {'v': 'via', 'f': 'from', 't': 'to', 'i': 'call-id', 'l': 'content-length',
           'c': 'content-type', 'm': 'contact', 'e': 'content-encoding', 'k': 'supported'}
# Headers whose values may be comma-joined on one line (not From/To/Date...).
MULTI = ('via', 'warning', 'record-route', 'route', 'contact')


# ---------------------------------------------------------------- parsing

def split_message(data):
    """(start line, [(name, value)], body) of one SIP message (bytes in)."""
    end = data.find(b'\r\n\r\n')
    if end < 0:
        raise ValueError('no end of headers')
    head = data[:end].decode('latin-1')
    lines = head.split('\r\n')
    hdrs = []
    for line in lines[1:]:
        if line[:1] in (' ', '\t') and hdrs:  # folded
            hdrs[-1] = (hdrs[-1][0], hdrs[-1][1] + ' ' + line.strip())
            continue
        name, _, value = line.partition(':')
        hdrs.append((name.strip(), value.strip()))
    rest = data[end + 4:]
    length = None
    for name, value in hdrs:
        if canon(name) == 'content-length':
            length = int(value)
    body = rest if length is None else rest[:length]
    return lines[0], hdrs, body


def canon(name):
    n = name.strip().lower()
    return COMPACT.get(n, n)


def split_commas(value):
    """Split on commas outside quotes and angle brackets."""
    out, cur, q, a, i = [], '', False, 0, 0
    while i < len(value):
        ch = value[i]
        if q:
            if ch == '\\' and i + 1 < len(value):
                cur += ch + value[i + 1]
                i += 2
                continue
            if ch == '"':
                q = False
        elif ch == '"':
            q = True
        elif ch == '<':
            a += 1
        elif ch == '>':
            a = max(0, a - 1)
        elif ch == ',' and a == 0:
            out.append(cur.strip())
            cur = ''
            i += 1
            continue
        cur += ch
        i += 1
    if cur.strip():
        out.append(cur.strip())
    return out


def values(hdrs, name):
    name = canon(name)
    out = []
    for n, v in hdrs:
        if canon(n) != name:
            continue
        out.extend(split_commas(v) if name in MULTI else [v])
    return out


def one(hdrs, name):
    v = values(hdrs, name)
    return v[0] if v else None


def param(value, pname):
    """A ;param=value of a header value (outside <>), unquoted, or None."""
    if value is None:
        return None
    v = value
    if '>' in v:
        v = v[v.rindex('>') + 1:]
    m = re.search(r';\s*' + re.escape(pname) + r'\s*=\s*("([^"]*)"|[^;,\s]*)', v, re.I)
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(1)


def strip_tag(value):
    return re.sub(r';\s*tag\s*=\s*[^;,\s]*', '', value, flags=re.I).strip()


def ws(s):
    return re.sub(r'\s+', ' ', s.strip()) if s is not None else None


def mime_params(ct):
    """(type/subtype lower-case, {param: value}) of a Content-Type value."""
    parts = ct.split(';')
    typ = parts[0].strip().lower()
    ps = {}
    for m in re.finditer(r';\s*([A-Za-z0-9._-]+)\s*=\s*("([^"]*)"|[^;\s]*)', ct):
        ps[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return typ, ps


def split_multipart(body, boundary):
    """The raw parts of a multipart body (RFC 2046): each part's bytes run
    from after the CRLF ending its boundary line to before the CRLF that
    begins the next delimiter. Raises ValueError without a close-delimiter."""
    dash = b'--' + boundary.encode('latin-1')

    def is_delim(at):
        nxt = body[at + len(dash):at + len(dash) + 1]
        return nxt in (b'-', b'\r', b' ', b'\t', b'')

    pos = 0 if body.startswith(dash) else -1
    if pos < 0:
        i = body.find(b'\r\n' + dash)
        while i >= 0 and not is_delim(i + 2):
            i = body.find(b'\r\n' + dash, i + 1)
        if i < 0:
            raise ValueError('no first boundary')
        pos = i + 2
    parts = []
    while True:
        after = pos + len(dash)
        if body[after:after + 2] == b'--':
            return parts
        eol = body.find(b'\r\n', after)
        if eol < 0 or body[after:eol].strip(b' \t'):
            raise ValueError('bad boundary line')
        start = eol + 2
        nxt = body.find(b'\r\n' + dash, start)
        while nxt >= 0 and not is_delim(nxt + 2):
            nxt = body.find(b'\r\n' + dash, nxt + 1)
        if nxt < 0:
            raise ValueError('no close-delimiter')
        parts.append(body[start:nxt])
        pos = nxt + 2


def mime_entity(raw):
    """({lower-case header name: value}, content bytes) of one MIME part."""
    if raw.startswith(b'\r\n'):
        return {}, raw[2:]
    end = raw.find(b'\r\n\r\n')
    if end < 0:
        raise ValueError('MIME part without a blank line')
    hdrs = {}
    for line in raw[:end].decode('latin-1').split('\r\n'):
        name, _, value = line.partition(':')
        hdrs[name.strip().lower()] = value.strip()
    return hdrs, raw[end + 4:]


def decode_cte(hdrs, content):
    cte = hdrs.get('content-transfer-encoding', 'binary').lower()
    if cte == 'base64':
        return base64.b64decode(re.sub(rb'\s+', b'', content), validate=True), cte
    return content, cte


def status_code(start):
    m = re.match(r'SIP/2\.0 (\d{3})', start)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------- transport

def read_messages(buf):
    """Complete messages at the front of buf: ([msg bytes], rest)."""
    out = []
    while True:
        while buf.startswith(b'\r\n'):
            buf = buf[2:]
        end = buf.find(b'\r\n\r\n')
        if end < 0:
            return out, buf
        _, hdrs, _ = split_message(buf[:end + 4])
        length = int(one(hdrs, 'content-length') or 0)
        total = end + 4 + length
        if len(buf) < total:
            return out, buf
        out.append(buf[:total])
        buf = buf[total:]


def save_response(outf, m):
    """OUTFILE and its .body, .warning and .content-type companions."""
    _, hdrs, body = split_message(m)
    with open(outf, 'wb') as f:
        f.write(m)
    with open(outf + '.body', 'wb') as f:
        f.write(body)
    with open(outf + '.warning', 'w') as f:
        f.write(''.join(v + '\n' for v in values(hdrs, 'warning')))
    with open(outf + '.content-type', 'w') as f:
        f.write(''.join(v + '\n' for v in values(hdrs, 'content-type')))


def make_ack(req, resp):
    """Hop-by-hop ACK for a non-2xx final response to an INVITE."""
    start, hdrs, _ = split_message(req)
    _, rhdrs, _ = split_message(resp)
    ruri = start.split(' ')[1]
    cseq = one(hdrs, 'cseq').split()[0]
    lines = ['ACK %s SIP/2.0' % ruri, 'Via: %s' % values(hdrs, 'via')[0]]
    for r in values(hdrs, 'route'):
        lines.append('Route: %s' % r)
    lines += ['From: %s' % one(hdrs, 'from'), 'To: %s' % one(rhdrs, 'to'),
              'Call-ID: %s' % one(hdrs, 'call-id'), 'CSeq: %s ACK' % cseq,
              'Max-Forwards: 70', 'Content-Length: 0']
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


def opensock(proto, port, bind):
    """A socket bound to bind ("ADDR" or "ADDR:PORT") connected to the proxy."""
    addr, _, lport = bind.partition(':')
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == 'udp' else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(lport or 0)))
    s.connect(('127.0.0.1', port))
    return s


def cmd_send(args):
    bind, ack = '127.0.0.1', True
    rest = []
    it = iter(args)
    for a in it:
        if a == '--bind':
            bind = next(it)
        elif a == '--no-ack':
            ack = False
        else:
            rest.append(a)
    proto, port, reqf, outf = rest[0], int(rest[1]), rest[2], rest[3]
    wait = float(rest[4]) if len(rest) > 4 else 5.0
    req = open(reqf, 'rb').read()
    s = opensock(proto, port, bind)
    s.sendall(req) if proto == 'tcp' else s.send(req)
    deadline = time.time() + wait
    buf = b''
    prov = []  # provisional status lines, for OUTFILE.provisional
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.time()))
        if not r:
            break
        d = s.recv(65535)
        if not d:
            break
        buf += d
        msgs, buf = read_messages(buf)
        if proto == 'udp':
            buf = b''
        for m in msgs:
            start = m.split(b'\r\n', 1)[0].decode('latin-1')
            code = status_code(start)
            if code is None:
                continue
            if code < 200:
                prov.append(start)
                continue
            with open(outf + '.provisional', 'w') as f:
                f.write(''.join(p + '\n' for p in prov))
            save_response(outf, m)
            if ack and code >= 300 and req.startswith(b'INVITE '):
                a = make_ack(req, m)
                s.sendall(a) if proto == 'tcp' else s.send(a)
                time.sleep(0.05)
            print(start)
            return 0
    print('TIMEOUT')
    return 1


def cmd_burst(args):
    bind, gap, stopfile = '127.0.0.1', 0.0, None
    rest = []
    it = iter(args)
    for a in it:
        if a == '--bind':
            bind = next(it)
        elif a == '--gap':
            gap = float(next(it))
        elif a == '--until':
            stopfile = next(it)
        else:
            rest.append(a)
    proto, port, tmplf, count, outdir = rest[0], int(rest[1]), rest[2], int(rest[3]), rest[4]
    wait = float(rest[5]) if len(rest) > 5 else 10.0
    tmpl = open(tmplf, 'rb').read()
    reqs = [tmpl.replace(b'@N@', str(i).encode()) for i in range(count)]
    byid = {}
    for i, r in enumerate(reqs):
        byid[one(split_message(r)[1], 'call-id')] = i
    s = opensock(proto, port, bind)
    got = {}
    state = {'buf': b''}

    def receive(timeout):
        r, _, _ = select.select([s], [], [], max(0.0, timeout))
        if not r:
            return False
        d = s.recv(65535)
        if not d:
            return False
        state['buf'] += d
        msgs, state['buf'] = read_messages(state['buf'])
        if proto == 'udp':
            state['buf'] = b''
        for m in msgs:
            start, hdrs, _ = split_message(m)
            code = status_code(start)
            i = byid.get(one(hdrs, 'call-id'))
            if code is None or code < 200 or i is None or i in got:
                continue
            got[i] = code
            with open(os.path.join(outdir, '%d.resp' % i), 'wb') as f:
                f.write(m)
        return True

    sent = count
    if gap <= 0 and proto == 'tcp':
        s.sendall(b''.join(reqs))
    else:
        for n, r in enumerate(reqs):
            if stopfile is not None and os.path.exists(stopfile):
                sent = n
                break
            s.sendall(r) if proto == 'tcp' else s.send(r)
            until = time.time() + gap
            while receive(until - time.time()) and time.time() < until:
                pass
    deadline = time.time() + wait
    while len(got) < sent and time.time() < deadline:
        if not receive(deadline - time.time()):
            break
    for i in range(sent):
        print(i, got.get(i, 'TIMEOUT'))
    return 0


# ------------------------------------------------------------ the checks

class Checks:
    def __init__(self):
        self.failed = 0

    def want(self, cond, what, detail=''):
        if cond:
            print('PASS %s' % what)
        else:
            self.failed += 1
            print('FAIL %s%s' % (what, (': ' + detail) if detail else ''))
        return cond


def openssl(args, **kw):
    import subprocess
    p = subprocess.run(['openssl'] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, **kw)
    return p.returncode, p.stdout.decode('latin-1'), p.stderr.decode('latin-1')


def fingerprint(path):
    rc, out, _ = openssl(['x509', '-in', path, '-noout', '-fingerprint', '-sha256'])
    return out.strip() if rc == 0 else None


def signing_time(sigder):
    """signingTime of the first signer as a Unix time, or None."""
    rc, out, _ = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', sigder])
    if rc != 0:
        return None
    m = re.search(r'signingTime.*?(UTCTIME|GENERALIZEDTIME):([A-Z][a-z]{2} +\d+ '
                  r'\d\d:\d\d:\d\d \d{4}) GMT', out, re.S)
    if not m:
        return None
    return calendar.timegm(time.strptime(re.sub(' +', ' ', m.group(2)), '%b %d %H:%M:%S %Y'))


def cmd_check(args):
    signer, skew, want_b64, once = None, 300.0, False, False
    rest = []
    it = iter(args)
    for a in it:
        if a == '--signer':
            signer = next(it)
        elif a == '--once':
            once = True
        elif a == '--skew':
            skew = float(next(it))
        elif a == '--base64':
            want_b64 = True
        else:
            rest.append(a)
    reqf, respf, ca, enccert, outdir = rest[:5]
    os.makedirs(outdir, exist_ok=True)
    c = Checks()
    req = open(reqf, 'rb').read()
    resp = open(respf, 'rb').read()
    _, qh, _ = split_message(req)
    rstart, rh, body = split_message(resp)
    code = status_code(rstart)

    ct = one(rh, 'content-type')
    if not c.want(ct is not None, 'response has a Content-Type'):
        return 1
    typ, ps = mime_params(ct)
    c.want(typ == 'multipart/signed', 'Content-Type is multipart/signed', typ)
    c.want(ps.get('protocol', '').lower() == 'application/pkcs7-signature',
           'protocol="application/pkcs7-signature"', ps.get('protocol', ''))
    c.want(ps.get('micalg', '').lower() == 'sha-256', 'micalg=sha-256', ps.get('micalg', ''))
    if not c.want('boundary' in ps, 'multipart/signed has a boundary'):
        return 1
    try:
        outer = split_multipart(body, ps['boundary'])
    except ValueError as e:
        c.want(False, 'multipart/signed splits into parts', str(e))
        return 1
    if not c.want(len(outer) == 2, 'multipart/signed has two parts', str(len(outer))):
        return 1
    part1, part2 = outer
    p1 = os.path.join(outdir, 'part1.bin')
    with open(p1, 'wb') as f:
        f.write(part1)

    # The signature part.
    sh, scontent = mime_entity(part2)
    styp, sps = mime_params(sh.get('content-type', ''))
    c.want(styp == 'application/pkcs7-signature', 'second part is application/pkcs7-signature', styp)
    try:
        sig, scte = decode_cte(sh, scontent)
    except Exception as e:  # binascii.Error
        c.want(False, 'signature part decodes', str(e))
        return 1
    c.want(scte == ('base64' if want_b64 else 'binary'),
           'signature part Content-Transfer-Encoding %s' % ('base64' if want_b64 else 'binary'), scte)
    sigf = os.path.join(outdir, 'sig.der')
    with open(sigf, 'wb') as f:
        f.write(sig)

    # The signed part: multipart/mixed with a sipfrag and the certificate.
    mh, mcontent = mime_entity(part1)
    mtyp, mps = mime_params(mh.get('content-type', ''))
    c.want(mtyp == 'multipart/mixed', 'first part is multipart/mixed', mtyp)
    try:
        inner = split_multipart(mcontent, mps.get('boundary', ''))
    except ValueError as e:
        c.want(False, 'multipart/mixed splits into parts', str(e))
        inner = []
    c.want(len(inner) == 2, 'multipart/mixed has two parts', str(len(inner)))
    frag = certder = None
    for raw in inner:
        h, content = mime_entity(raw)
        t, _ = mime_params(h.get('content-type', 'text/plain'))
        if t == 'message/sipfrag':
            frag = content
        elif t == 'application/pkix-cert':
            try:
                certder, ccte = decode_cte(h, content)
            except Exception as e:
                c.want(False, 'certificate part decodes', str(e))
                continue
            c.want(ccte == ('base64' if want_b64 else 'binary'),
                   'certificate part Content-Transfer-Encoding %s' % ('base64' if want_b64 else 'binary'),
                   ccte)
    c.want(inner[:1] and frag is not None and mime_params(
        mime_entity(inner[0])[0].get('content-type', ''))[0] == 'message/sipfrag',
        'first inner part is message/sipfrag')
    if c.want(certder is not None, 'an application/pkix-cert part'):
        with open(os.path.join(outdir, 'cert.der'), 'wb') as f:
            f.write(certder)
        import ssl
        want_der = ssl.PEM_cert_to_DER_cert(open(enccert).read())
        c.want(certder == want_der, 'certificate part is the configured encryption certificate',
               '%d bytes, want %d' % (len(certder), len(want_der)))

    if frag is not None:
        with open(os.path.join(outdir, 'sipfrag.txt'), 'wb') as f:
            f.write(frag)
        check_sipfrag(c, frag, rstart, rh, qh, skew)

    # The signature, by the openssl command line.
    signerf = os.path.join(outdir, 'signer.pem')
    extra = []
    if once:
        bodycert = os.path.join(outdir, 'cert.pem')
        rc, _, _ = openssl(['x509', '-inform', 'DER', '-in', os.path.join(outdir, 'cert.der'),
                            '-out', bodycert])
        c.want(rc == 0, 'the body\'s certificate converts to PEM')
        extra = ['-certfile', bodycert]
        rc, out, _ = openssl(['pkcs7', '-inform', 'DER', '-in', sigf, '-print_certs'])
        carried = re.findall(r'-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----', out)
        mine = re.findall(r'-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----',
                          open(bodycert).read())
        c.want(rc == 0 and len(mine) == 1 and mine[0] not in carried,
               'once: the SignedData does not carry the body\'s certificate',
               '%d carried' % len(carried))
    rc, _, err = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', sigf,
                          '-content', p1, '-CAfile', ca, '-purpose', 'any',
                          '-signer', signerf, '-out', os.devnull] + extra)
    c.want(rc == 0, 'openssl cms -verify: signature over the first part valid',
           err.strip().replace('\n', ' | ')[:300])
    if signer is not None:
        got, want = fingerprint(signerf) if rc == 0 else None, fingerprint(signer)
        c.want(got is not None and got == want, 'signer is the proxy signing certificate',
               '%s, want %s' % (got, want))
    # The same check must fail on a tampered copy (a test that can fail).
    cid = (one(qh, 'call-id') or 'x').encode('latin-1')
    at = part1.find(cid)
    if at < 0:
        at = len(part1) // 2
    bad = bytearray(part1)
    bad[at] ^= 1
    badf = os.path.join(outdir, 'part1.tampered')
    with open(badf, 'wb') as f:
        f.write(bytes(bad))
    rc2, _, _ = openssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', sigf,
                         '-content', badf, '-CAfile', ca, '-purpose', 'any', '-out', os.devnull]
                        + extra)
    c.want(rc2 != 0, 'openssl cms -verify fails on a tampered first part')
    st = signing_time(sigf)
    c.want(st is not None and abs(st - time.time()) <= skew, 'signingTime is now',
           'signingTime %s, now %d' % (st, time.time()))
    rc, out, _ = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', sigf])
    c.want(rc == 0 and re.search(r'digestAlgorithm:\s*algorithm: sha256', out) is not None,
           'signer digest algorithm sha256')
    c.want(rc == 0 and 'S/MIME Capabilities' in out, 'SMIMECapabilities signed attribute')

    if want_b64:
        eml = os.path.join(outdir, 'smime.eml')
        with open(eml, 'wb') as f:
            f.write(b'Content-Type: ' + ct.encode('latin-1') + b'\r\n\r\n' + body)
        rc, _, err = openssl(['cms', '-verify', '-in', eml, '-CAfile', ca, '-purpose', 'any',
                              '-out', os.devnull] + extra)
        c.want(rc == 0, 'openssl cms -verify -in (the body as S/MIME)',
               err.strip().replace('\n', ' | ')[:300])
    print('%d checks failed' % c.failed)
    return 1 if c.failed else 0


def check_sipfrag(c, frag, rstart, rh, qh, skew):
    c.want(frag.endswith(b'\r\n') and b'\r\n\r\n' not in frag,
           'sipfrag is header lines ending in CRLF, no blank line')
    lines = frag.decode('latin-1').split('\r\n')
    if lines and lines[-1] == '':
        lines.pop()
    fstart = lines[0] if lines else ''
    fh = []
    for line in lines[1:]:
        name, _, value = line.partition(':')
        fh.append((name.strip(), value.strip()))
    c.want(fstart == rstart, 'sipfrag status line equals the response\'s',
           '%r vs %r' % (fstart, rstart))
    names = [canon(n) for n, _ in fh]
    extra = sorted(set(names) - {'via', 'from', 'to', 'call-id', 'cseq', 'date', 'warning'})
    c.want(not extra, 'sipfrag holds only Via, From, To, Call-ID, CSeq, Date, Warning',
           ','.join(extra))
    for n in ('from', 'to', 'call-id', 'cseq', 'date'):
        c.want(names.count(n) == 1, 'sipfrag has one %s' % n, str(names.count(n)))

    fvia, rvia, qvia = values(fh, 'via'), values(rh, 'via'), values(qh, 'via')
    c.want(fvia == rvia, 'sipfrag Via values equal the response\'s, in order',
           '%r vs %r' % (fvia, rvia))
    fb = [param(v, 'branch') for v in fvia]
    qb = [param(v, 'branch') for v in qvia]
    c.want(len(fb) == len(qb) and fb == qb and None not in qb,
           'sipfrag Via branch equals the request\'s, every Via in order',
           '%r vs request %r' % (fb, qb))
    ffrom, qfrom = one(fh, 'from'), one(qh, 'from')
    c.want(ws(ffrom) == ws(qfrom) and param(qfrom, 'tag') is not None,
           'sipfrag From (with tag) equals the request\'s', '%r vs %r' % (ffrom, qfrom))
    c.want(ws(one(fh, 'call-id')) == ws(one(qh, 'call-id')),
           'sipfrag Call-ID equals the request\'s', '%r vs %r' % (one(fh, 'call-id'), one(qh, 'call-id')))
    c.want(ws(one(fh, 'cseq')) == ws(one(qh, 'cseq')),
           'sipfrag CSeq equals the request\'s', '%r vs %r' % (one(fh, 'cseq'), one(qh, 'cseq')))
    fto, rto, qto = one(fh, 'to'), one(rh, 'to'), one(qh, 'to')
    ftag, rtag = param(fto, 'tag'), param(rto, 'tag')
    c.want(ftag is not None and ftag != '' and ftag == rtag,
           'sipfrag To tag equals the response\'s To tag', '%r vs %r' % (ftag, rtag))
    c.want(fto is not None and qto is not None and ws(strip_tag(fto)) == ws(strip_tag(qto)),
           'sipfrag To without tag equals the request\'s To', '%r vs %r' % (fto, qto))
    fdate, rdate = one(fh, 'date'), one(rh, 'date')
    c.want(fdate is not None and fdate == rdate, 'sipfrag Date equals the response\'s Date',
           '%r vs %r' % (fdate, rdate))
    import email.utils
    try:
        d = email.utils.parsedate_to_datetime(fdate).timestamp()
        ok = fdate.endswith(' GMT') and abs(d - time.time()) <= skew
    except (TypeError, ValueError):
        ok = False
    c.want(ok, 'Date is RFC 1123 GMT and now', repr(fdate))
    fw, rw = values(fh, 'warning'), values(rh, 'warning')
    c.want(fw == rw, 'sipfrag Warning values equal the response\'s', '%r vs %r' % (fw, rw))


def cmd_normalise(args):
    reqf, respf, outf = args[:3]
    _, qh, _ = split_message(open(reqf, 'rb').read())
    resp = open(respf, 'rb').read()
    start, rh, body = split_message(resp)
    ct = one(rh, 'content-type') or ''
    subs = []
    typ, ps = mime_params(ct)
    if typ == 'multipart/signed' and 'boundary' in ps:
        try:
            p1, p2 = split_multipart(body, ps['boundary'])
            sh, _ = mime_entity(p2)
            body = body.replace(p2, ('\r\n'.join('%s: %s' % kv for kv in sorted(sh.items())) +
                                     '\r\n\r\n<SIGNATURE>').encode())
            mh, _ = mime_entity(p1)
            mb = mime_params(mh.get('content-type', ''))[1].get('boundary')
            if mb:
                subs.append((mb, '<MIX-BOUNDARY>'))
        except ValueError:
            pass
        subs.append((ps['boundary'], '<SIG-BOUNDARY>'))
    rto = one(rh, 'to')
    if param(rto, 'tag'):
        subs.append((';tag=' + param(rto, 'tag'), ';tag=<TO-TAG>'))
    if one(rh, 'date'):
        subs.append((one(rh, 'date'), '<DATE>'))
    subs.append((one(qh, 'call-id'), '<CALL-ID>'))
    if param(one(qh, 'from'), 'tag'):
        subs.append((';tag=' + param(one(qh, 'from'), 'tag'), ';tag=<FROM-TAG>'))
    for i, v in enumerate(values(qh, 'via')):
        b = param(v, 'branch')
        if b:
            subs.append((b, '<BRANCH-%d>' % i))
    data = resp[:resp.find(b'\r\n\r\n') + 4] + body
    data = re.sub(rb'(?im)^(content-length|l)[ \t]*:[^\r\n]*', b'Content-Length: <N>', data)
    data = re.sub(rb'(?i)(received|rport)=[^;,>\s]*', rb'\1=<ADDR>', data)
    for old, new in subs:
        if old:
            data = data.replace(old.encode('latin-1'), new.encode('latin-1'))
    with open(outf, 'wb') as f:
        f.write(data)
    return 0


COMMANDS = {}


def cmd_each(args):
    import contextlib
    sep = args.index('--')
    d, names, cmd, cargs = args[0], args[1:sep], args[sep + 1], args[sep + 2:]
    for name in names:
        base = os.path.join(d, name)
        with open(base + '.' + cmd + '.out', 'w') as out, contextlib.redirect_stdout(out):
            try:
                rc = COMMANDS[cmd]([a.replace('@', base) for a in cargs])
            except Exception as e:  # one broken response must not stop the rest
                print('FAIL %s: %r' % (cmd, e))
                rc = 1
        with open(base + '.' + cmd + '.rc', 'w') as f:
            f.write('%d\n' % rc)
    return 0


def main():
    COMMANDS.update(send=cmd_send, check=cmd_check, normalise=cmd_normalise)
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'each':
        return cmd_each(args)
    if cmd == 'send':
        return cmd_send(args)
    if cmd == 'burst':
        return cmd_burst(args)
    if cmd == 'check':
        return cmd_check(args)
    if cmd == 'normalise':
        return cmd_normalise(args)
    if cmd == 'header':
        _, hdrs, _ = split_message(open(args[0], 'rb').read())
        for v in values(hdrs, args[1]):
            print(v)
        return 0
    if cmd == 'body':
        _, _, body = split_message(open(args[0], 'rb').read())
        with open(args[1], 'wb') as f:
            f.write(body)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
