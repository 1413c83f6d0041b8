#!/bin/bash
# A record-routed call over UDP on both sides of the proxy.
NAME=call_udp PORTBASE=21000 TP=u1
. "$TOP_SRCDIR/tests/integration/call.sh"
