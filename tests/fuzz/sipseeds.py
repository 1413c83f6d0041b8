#!/usr/bin/env python3
"""sipseeds.py - writes the seed corpora of fuzz_sipframe, fuzz_sipstream
(a TCP stream each), fuzz_sipdgram and fuzz_wirecopy (a UDP datagram
each) from the RFC 4475 torture messages (tests/rfc4475/*.dat, byte for
byte) and hand-made framings of them: pipelined messages, CRLF
keep-alives, a header split off, Content-Length edge cases, escaped NULs
in quoted strings, garbage.

    tests/fuzz/sipseeds.py        (from the source tree's top)

Files are named after what they hold and overwritten; fuzz.sh --import
adds the inputs long runs find beside them (hash-named).
"""
import glob
import os

TOP = os.path.dirname(os.path.abspath(__file__)) + "/../.."
OUT = TOP + "/tests/fuzz/corpus"


def msg(start, fields, body=b"", cl=None):
    """A message: start line, fields, Content-Length (cl: its text, None:
    the body's length, False: none), the empty line, the body."""
    head = start + b"\r\n" + b"".join(f + b"\r\n" for f in fields)
    if cl is None:
        cl = str(len(body)).encode()
    if cl is not False:
        head += b"Content-Length: " + cl + b"\r\n"
    return head + b"\r\n" + body


BASE = [b"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
        b"Max-Forwards: 70", b"To: <sip:bob@example.com>",
        b"From: \"Alice\" <sip:alice@example.com>;tag=1928301774",
        b"Call-ID: a84b4c76e66710@pc33.example.com", b"CSeq: 1 MESSAGE"]
MESSAGE = msg(b"MESSAGE sip:bob@example.com SIP/2.0",
              BASE + [b"Content-Type: text/plain"], b"Hello, Bob.\r\n")
OPTIONS = msg(b"OPTIONS sip:bob@example.com SIP/2.0", BASE[:5] +
              [b"CSeq: 2 OPTIONS"])
OK = msg(b"SIP/2.0 200 OK", BASE[:5] + [b"CSeq: 1 MESSAGE"])
OK_BODY = msg(b"SIP/2.0 200 OK", BASE[:5] + [b"CSeq: 3 INVITE",
              b"Content-Type: application/sdp"],
              b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
              b"c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
NUL_TO = msg(b"MESSAGE sip:bob@example.com SIP/2.0",
             [f for f in BASE if not f.startswith(b"To")] +
             [b"To: \"a\\\x00b \\\\\x00 \\\\\\\x00\" <sip:bob@example.com>"],
             b"body \\\x00 not masked")


def rfc(name):
    with open(TOP + "/tests/rfc4475/" + name + ".dat", "rb") as f:
        return f.read()


def write(kind, name, data):
    os.makedirs(OUT + "/" + kind, exist_ok=True)
    with open(OUT + "/" + kind + "/" + name, "wb") as f:
        f.write(data)


def main():
    dats = sorted(glob.glob(TOP + "/tests/rfc4475/*.dat"))
    for path in dats:
        name = os.path.basename(path)[:-4]
        for kind in ("sipframe", "sipstream", "sipdgram", "wirecopy"):
            write(kind, "rfc4475-" + name, rfc(name))

    streams = {
        "pipelined-3": MESSAGE + OPTIONS + OK_BODY,
        "pipelined-keepalives": b"\r\n\r\n" + MESSAGE + b"\r\n\r\n" +
        OPTIONS + b"\r\n" + OK,
        "keepalive-crlfcrlf": b"\r\n\r\n",
        "keepalive-crlf": b"\r\n",
        "keepalive-many": b"\r\n\r\n" * 8 + b"\n\n",
        "split-header": MESSAGE + OPTIONS[:len(OPTIONS) // 2],
        "split-in-crlf": MESSAGE[:MESSAGE.index(b"\r\n\r\n") + 3],
        "body-pending": OK_BODY[:-10],
        "cl-zero-then-next": OPTIONS + MESSAGE,
        "cl-missing": msg(b"OPTIONS sip:b@example.com SIP/2.0", BASE,
                          cl=False) + OPTIONS,
        "cl-compact": msg(b"MESSAGE sip:b@example.com SIP/2.0",
                          BASE, b"abc", cl=False).replace(
                              b"\r\n\r\n", b"\r\nl: 3\r\n\r\n", 1) + OK,
        "cl-spaces": MESSAGE.replace(b"Content-Length: ",
                                     b"content-length \t:  0000"),
        "cl-twice": MESSAGE.replace(b"Content-Length: ",
                                    b"Content-Length: 2\r\nContent-Length: "),
        "cl-long": MESSAGE.replace(b"Content-Length: 13",
                                   b"Content-Length: " + b"0" * 130 + b"13"),
        "cl-short": msg(b"MESSAGE sip:b@example.com SIP/2.0", BASE,
                        b"Hello, Bob.", cl=b"5") + OPTIONS,
        "cl-huge": msg(b"MESSAGE sip:b@example.com SIP/2.0", BASE,
                       b"x", cl=b"99999999999999999999999"),
        "cl-not-number": msg(b"MESSAGE sip:b@example.com SIP/2.0", BASE,
                             b"x", cl=b"1x") + OPTIONS,
        "cl-folded": MESSAGE.replace(b"Content-Length: ",
                                     b"Content-Length:\r\n  "),
        "lf-only": MESSAGE.replace(b"\r\n", b"\n") + OPTIONS,
        "bare-cr": OPTIONS.replace(b"Max-Forwards: 70",
                                   b"Max-Forwards: 70\r\r\r"),
        "nul-quoted": NUL_TO + OPTIONS,
        "nul-quoted-lf": NUL_TO.replace(b"\r\n", b"\n"),
        "nul-intmeth-twice": rfc("intmeth") + rfc("intmeth"),
        "long-line": OPTIONS.replace(b"Max-Forwards: 70",
                                     b"Subject: " + b"a" * 900),
        "garbage-binary": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "garbage-http": b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "garbage-after": OK + b"\x00\x01\x02junk\r\n",
        "response-body": OK_BODY + OK_BODY,
    }
    for name, data in streams.items():
        write("sipframe", name, data)
        write("sipstream", name, data)

    dgrams = {
        "response": OK,
        "response-body": OK_BODY,
        "response-short-body": OK_BODY[:-7],
        "response-trailing": OK_BODY + b"\r\ntrailing bytes",
        "response-no-end": OK[:OK.index(b"\r\n\r\n") + 2],
        "response-no-cl": msg(b"SIP/2.0 200 OK", BASE, b"abc", cl=False),
        "response-lf-only": OK_BODY.replace(b"\r\n", b"\n"),
        "leading-crlf": b"\r\n\r\n" + OK,
        "cl-compact": OK.replace(b"Content-Length: 0", b"l: 4") + b"abcd",
        "cl-twice": OK_BODY.replace(b"Content-Length: ",
                                    b"Content-Length: 900\r\n"
                                    b"Content-Length: "),
        "cl-not-number": OK.replace(b"Content-Length: 0",
                                    b"Content-Length: 0x10"),
        "cl-folded": OK.replace(b"Content-Length: 0",
                                b"Content-Length:\r\n 0"),
        "cl-overflow": OK.replace(b"Content-Length: 0",
                                  b"Content-Length: 184467440737095516160"),
        "cl-spaces": OK.replace(b"Content-Length: 0",
                                b"Content-Length\t :  2 \t") + b"ab",
        "request": MESSAGE,
        "nul-quoted": NUL_TO,
        "keepalive": b"\r\n\r\n",
    }
    for name, data in dgrams.items():
        write("sipdgram", name, data)
        write("wirecopy", name, data)


main()
