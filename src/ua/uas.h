/*
 * uas.h - e2mua -l: the called side. Every MESSAGE and INVITE is opened
 * with the UAS's key and checked (uarecv.c) and printed as one JSON line;
 * an INVITE is answered with an SDP answer protected as -e/-x say (so the
 * caller, and a proxy, can read it); BYE ends the call.
 */
#ifndef UAS_H
#define UAS_H

struct uaopts;
struct cms_keys;

/* Until -N requests were answered or -T seconds passed; an exit status. */
int uas_run(const struct uaopts *o, const struct cms_keys *keys);

#endif /* UAS_H */
