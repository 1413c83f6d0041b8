/*
 * pinhole.h - which firewall pinholes the media of each dialog needs,
 * within the configured networks, ports and caps; pure (no I/O, no clock
 * of its own, no locking: one table belongs to one thread).
 *
 * A dialog, named by an opaque key (Call-ID and tags), has two sides, the
 * caller and the callee; the caller of this module reports each side's
 * media (services/sdp.h) whenever an offer or an answer is seen, and gets
 * back the changes to make: holes to add and to remove, and what was
 * refused and why. A hole lets one protocol in to one address and port
 * (struct pinhole_hole); a side's holes are where that side receives, so
 * the two sides' holes together let both directions of the call through.
 *
 * Per stream i (the i-th m= line of each side, RFC 3264 order):
 *   - rejected (port 0) on either side, or a=inactive on this side:
 *     nothing is opened for this side's stream (not a refusal);
 *   - RTP streams get a hole per RTP port and, unless RTP and RTCP are
 *     muxed, per RTCP port. Muxed means a=rtcp-mux on this side and, once
 *     the other side has reported stream i, on that side too (RFC 5761
 *     5.1.1: an offerer whose answer lacks rtcp-mux receives RTCP on the
 *     separate port);
 *   - every hole must have a unicast IP address (not 0.0.0.0, ::, a
 *     v4-mapped IPv6 address, a name or a multicast group) inside one of
 *     the media networks, a port inside one of the port ranges, UDP (TCP
 *     only with allow_tcp), a stream of at most max_nports ports, and room
 *     under the per-dialog and the global cap; else it is refused, counted
 *     and reported.
 *
 * Holes are counted by reference: the same address, port and protocol in
 * two dialogs (or twice in one) is one hole, removed when the last dialog
 * that needs it lets go. Reporting a side again (re-INVITE, UPDATE) gives
 * only the differences; unchanged holes are untouched.
 *
 * Time is the caller's, in milliseconds (monotonic). A dialog lives at
 * most max_duration_ms from its first report, and no longer than its
 * session expiry (RFC 4028) when one is set; pinhole_expire() closes the
 * others. A firewall element times out by itself (so a crashed daemon
 * leaves nothing open for long); pinhole_due() names the holes that are
 * due for a refresh, each every refresh_ms (e.g. a third of the element
 * timeout, so two refreshes may be lost before a hole closes).
 */
#ifndef PINHOLE_H
#define PINHOLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/netaddr.h"
#include "services/sdp.h"

struct pinhole_table;

/* One pinhole: protocol proto to addr:port. */
struct pinhole_hole {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network byte order; 4 bytes for AF_INET */
	unsigned port;
	int proto;              /* IPPROTO_UDP or IPPROTO_TCP */
};

enum pinhole_side { PINHOLE_CALLER = 0, PINHOLE_CALLEE = 1 };

/* Bounds of the configuration and of a dialog key. */
#define PINHOLE_MAX_KEY 1024       /* bytes of a dialog key */
#define PINHOLE_MAX_NPORTS 16      /* max_nports at most */
#define PINHOLE_MAX_PER_DIALOG 256 /* max_per_dialog at most */

enum pinhole_reason {
	PINHOLE_R_NOADDR = 0, /* no c=, or a form that is not an address */
	PINHOLE_R_HOSTNAME,   /* a name: never resolved */
	PINHOLE_R_MULTICAST,
	PINHOLE_R_UNSPEC,     /* 0.0.0.0, ::, a v4-mapped IPv6 address */
	PINHOLE_R_NETWORK,    /* outside the media networks */
	PINHOLE_R_PORT,       /* outside the port ranges */
	PINHOLE_R_TRANSPORT,  /* TCP without allow_tcp, or unknown */
	PINHOLE_R_NPORTS,     /* a stream of more than max_nports ports */
	PINHOLE_R_DIALOG_CAP, /* the dialog has max_per_dialog holes */
	PINHOLE_R_TOTAL_CAP,  /* the table has max_total holes */
	PINHOLE_R_COUNT
};

struct pinhole_refusal {
	enum pinhole_side side;
	unsigned media;          /* index of the m= line */
	enum pinhole_reason reason;
	struct pinhole_hole hole; /* as far as known (family AF_UNSPEC if no
				     address); port is the first one */
};

/* What one call asks of the firewall: apply del before add. The arrays
 * belong to the structure, reused from call to call. */
struct pinhole_changes {
	struct pinhole_hole *add, *del, *refresh;
	size_t nadd, ndel, nrefresh;
	struct pinhole_refusal *refused;
	size_t nrefused;
	size_t add_cap, del_cap, refresh_cap, refused_cap; /* private */
};

struct pinhole_range {
	unsigned lo, hi; /* 1 <= lo <= hi <= 65535 */
};

struct pinhole_conf {
	const struct netaddr *nets;  /* media networks; copied */
	size_t nnets;                /* >= 1 */
	const struct pinhole_range *ranges; /* copied */
	size_t nranges;              /* >= 1 */
	int allow_tcp;               /* TCP media (RFC 4145) get TCP holes */
	unsigned max_nports;         /* ports of one m= line, 1.. */
	unsigned max_per_dialog;     /* distinct holes of one dialog, 1.. */
	unsigned max_total;          /* distinct holes of the table */
	unsigned max_dialogs;
	uint64_t max_duration_ms;    /* a dialog's lifetime at most */
	uint64_t refresh_ms;         /* a hole's refresh interval (> 0) */
	unsigned char seed[16];      /* hash key: random in the daemon */
};

/* NULL and *why set (static) if the configuration is unusable or out of
 * memory. */
struct pinhole_table *pinhole_new(const struct pinhole_conf *c,
    const char **why);
/* Frees the table without reporting removals: close dialogs first. */
void pinhole_free(struct pinhole_table *t);

void pinhole_changes_init(struct pinhole_changes *ch);
void pinhole_changes_clear(struct pinhole_changes *ch); /* keeps memory */
void pinhole_changes_free(struct pinhole_changes *ch);

/*
 * One side of dialog key (a string of at most PINHOLE_MAX_KEY bytes; the
 * dialog is created on its first report) now has media m[0..n-1],
 * n <= SDP_MAX_MEDIA, replacing what that side had. Appends to ch the
 * holes to add and remove and the refusals. 0, or -1 with the table
 * unchanged and errno ENOMEM, ENOSPC (max_dialogs reached: nothing opened
 * for a new dialog) or EINVAL.
 */
int pinhole_set_media(struct pinhole_table *t, const char *key,
    enum pinhole_side side, const struct sdp_media *m, size_t n,
    uint64_t now_ms, struct pinhole_changes *ch);
/* The dialog ended: appends its holes to remove. 0 (also for an unknown
 * key), or -1 and errno ENOMEM with the table unchanged. */
int pinhole_close(struct pinhole_table *t, const char *key,
    struct pinhole_changes *ch);
/* RFC 4028: the session of dialog key ends at until_ms (monotonic) unless
 * a refresh moves it; until_ms 0 removes the expiry (a refresh whose 2xx
 * has no Session-Expires). 0, or -1 and errno ENOENT for an unknown key. */
int pinhole_session(struct pinhole_table *t, const char *key,
    uint64_t until_ms);
/* Closes every dialog older than max_duration_ms or past its session
 * expiry; the number closed, or -1 and errno ENOMEM (the dialogs closed so
 * far stay closed). At shutdown, now_ms UINT64_MAX closes them all. */
long pinhole_expire(struct pinhole_table *t, uint64_t now_ms,
    struct pinhole_changes *ch);
/* Appends to ch->refresh each hole whose refresh is due, and schedules its
 * next one; the number, or -1 and errno ENOMEM. */
long pinhole_due(struct pinhole_table *t, uint64_t now_ms,
    struct pinhole_changes *ch);

/* 1 when the table knows dialog key (even with no hole open: all its
 * media refused or not yet reported), else 0. Tells the proxy which side
 * of a dialog sent an in-dialog message. */
int pinhole_exists(const struct pinhole_table *t, const char *key);
/* The distinct holes of a dialog into out[0..max-1]; how many it has. */
size_t pinhole_dialog_holes(const struct pinhole_table *t, const char *key,
    struct pinhole_hole *out, size_t max);

struct pinhole_stats {
	size_t dialogs, holes;                       /* now */
	unsigned long refused[PINHOLE_R_COUNT];      /* since pinhole_new */
};
void pinhole_stats(const struct pinhole_table *t, struct pinhole_stats *st);

const char *pinhole_reason_str(enum pinhole_reason r);
/* "udp 192.0.2.1 49170" into buf (>= PINHOLE_STRLEN bytes). */
#define PINHOLE_STRLEN 64
const char *pinhole_hole_str(const struct pinhole_hole *h, char *buf,
    size_t bufsz);

#endif /* PINHOLE_H */
