#!/bin/bash
# A record-routed call over TCP on both sides of the proxy.
NAME=call_tcp PORTBASE=21020 TP=t1
. "$TOP_SRCDIR/tests/integration/call.sh"
