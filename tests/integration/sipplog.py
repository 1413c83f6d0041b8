#!/usr/bin/env python3
"""What a SIPp instance received, from its -trace_msg log (sipp_bg's
NAME.msg.log), with resends told apart from new requests.

usage: sipplog.py LOG count|first|callids METHOD
  count    how many different METHOD requests were received: copies
           byte-identical to one received before count once
  first    the first METHOD request received, as it came
  callids  the Call-IDs of the METHOD requests received, one a line, each
           once, in order

Over UDP the proxy resends a request its next hop has not answered yet
(Timers A and E, from 500 ms): a SIPp that is slow to answer (descheduled
on a loaded machine) logs every copy, although it took them for the one
request they are. A resend is byte-identical to the first copy; a test
that counts what it received counts requests, not copies.
"""
import re
import sys


def received(path):
    """The messages logged as received, in order (bytes, CRLF kept)."""
    text = open(path, 'rb').read()
    out = []
    for block in re.split(rb'(?m)^-{20,} [^\n]*\n', text):
        head, sep, rest = block.partition(b'\n')
        if not sep or b'message received' not in head:
            continue
        # a blank line follows the "... received [N] bytes :" line
        msg = rest[1:] if rest.startswith(b'\n') else rest
        out.append(msg.rstrip(b'\n'))
    return out


def main():
    path, what, method = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    reqs = [m for m in received(path) if m.startswith(method + b' ')]
    if what == 'count':
        print(len(set(reqs)))
    elif what == 'first':
        if reqs:
            sys.stdout.buffer.write(reqs[0] + b'\n')
    elif what == 'callids':
        seen = []
        for m in reqs:
            c = re.search(rb'(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)', m)
            if c and c.group(1) not in seen:
                seen.append(c.group(1))
        for c in seen:
            print(c.decode('latin-1'))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
