/*
 * parsefix.h - three entries of Sofia's SIP parser table replaced, process
 * wide, before any message is parsed.
 *
 * 1. Methods. Sofia's sip_method_d() takes an extension method (request
 *    line and CSeq) only if it is made of URI "unreserved" characters;
 *    RFC 3261 25.1 says token, which adds "%", "+" and "`". RFC 4475
 *    3.1.1.2 (intmeth) is a valid request with such a method, and Sofia
 *    failed its request line: the message went to nta as garbage and was
 *    dropped without an answer. Here both take a token.
 * 2. The version. nta answers a request whose version is not SIP/2.0 with
 *    505 before it checks the top Via, so the Via has no received/rport yet
 *    and the 505 goes to the Via's host (a DNS lookup away, RFC 4475
 *    3.1.2.16 badvers) instead of the address the request came from. Here
 *    such a request line parses with a version that reads "SIP/2.0" but is
 *    parsefix_bad_version (compare the pointer): nta goes on, checks the
 *    Via, and the proxy answers 505 itself (incoming.c), to the source.
 *    So that the Via check passes, a Via whose sent-protocol has another
 *    version than 2.0 ("SIP/7.0/UDP") parses as the same transport of
 *    SIP/2.0; its bytes are forwarded as received (wirecopy.c).
 *
 * Sofia's class objects are const: a clone of its message class gets
 * copies of the three with another parse function (how, and why headers
 * Sofia makes still fit: parsefix.c), and becomes the default that nta,
 * wirecopy.c and every msg_make() of sip_default_mclass() use. To remove: when Sofia's sip_method_d() takes token characters
 * and nta checks the Via before the version, drop this module.
 */
#ifndef PARSEFIX_H
#define PARSEFIX_H

/* The version of a request line that named another one than SIP/2.0. */
extern const char parsefix_bad_version[];

/* Make Sofia's default message class (sip_default_mclass(), which nta
 * takes when it is created) one with these parsers; once, before anything
 * is parsed. 0, or -1 out of memory (then Sofia's stays). */
int parsefix_install(void);

#endif /* PARSEFIX_H */
