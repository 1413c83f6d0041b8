/* conf.h - the daemon's configuration: a libconfig file -> struct conf. */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "e2m/policy.h"

enum conf_transport { CONF_TP_UDP, CONF_TP_TCP, CONF_TP_TLS };

struct conf_listen {
	enum conf_transport transport;
	char *address; /* numeric IPv4/IPv6 literal */
	int port;
};

/* One routing rule; a rule matches when every criterion it sets matches. */
struct conf_route {
	int line;          /* line in the file, for log messages */
	char *domain;      /* NULL: any; "example.com" exact; "*.example.com" subdomains */
	char **methods;    /* upper-case method names; NULL when nmethods == 0 (any) */
	size_t nmethods;
	struct netaddr *sources; /* source networks; any when nsources == 0 */
	size_t nsources;
	char *next_hop;    /* "sip:host[:port][;params]" or "sips:..." */
};

/*
 * What one policy rule's lists point into (the rule's n* fields count the
 * entries); owned by struct conf, freed by conf_free().
 */
struct conf_policy_owned {
	char **methods;
	char **ruri_domains;
	char **from_users;
	char **from_domains;
	struct netaddr *sources;
	char **prmb_types;
};

/* A range of ports, both ends included. */
struct conf_port_range {
	unsigned lo, hi;
};

/* One decryption certificate and its private key (absolute names). */
struct conf_keypair {
	char *certificate;
	char *key;
};

struct conf {
	char *path;

	enum log_target log_target;
	int log_level;     /* syslog level */
	int log_facility;  /* syslog facility */
	int log_format;    /* enum log_format */
	char *log_ident;   /* syslog ident and stderr prefix */

	/* daemon: who it runs as after the start; NULL: as started */
	char *daemon_user;
	char *daemon_group;          /* NULL: the user's primary group */
	char *pid_file;              /* absolute; NULL: none */
	int sip_trace;     /* log whole messages, bodies included */

	struct conf_listen *listen;
	size_t nlisten;
	char **own_names;  /* extra host names that mean "this proxy" */
	size_t nown_names;
	int record_route;
	int max_forwards;            /* set on requests that carry none */
	unsigned transaction_timeout_ms; /* 64*T1: Timer B/F */
	unsigned idle_timeout_s;     /* TCP/TLS connections unused this long */
	unsigned message_timeout_s;  /* a TCP/TLS message whole within; 0: off */
	unsigned send_timeout_s;     /* TCP_USER_TIMEOUT; 0: the kernel's */
	unsigned max_connections_per_source; /* TCP/TLS at once; 0: no limit */
	unsigned udp_mtu;            /* larger requests go over TCP */
	unsigned udp_buffer;         /* SO_RCVBUF/SO_SNDBUF for UDP sockets */
	unsigned max_message_size;   /* larger messages are refused */
	unsigned source_rate;        /* UDP datagrams/s per source, 0: off */
	unsigned source_burst;       /* its bucket (default 2 * rate) */
	struct netaddr *source_exempt; /* never limited */
	size_t nsource_exempt;

	char *tls_certificate;
	char *tls_key;
	char *tls_ca_file;
	int tls_verify_server;       /* outgoing: verify chain and host name */
	int tls_verify_client;       /* incoming: demand a client certificate */

	char *default_next_hop;      /* NULL: resolve the request-URI (RFC 3263) */
	struct conf_route *routes;
	size_t nroutes;

	/* inspect: the decrypt stage. File names are absolute. */
	struct conf_keypair *inspect_keys; /* newest first; all are tried */
	size_t ninspect_keys;
	char **trust_anchors;        /* PEM CA certificates */
	size_t ntrust_anchors;
	char **crl_files;            /* PEM CRLs; any: check revocation */
	size_t ncrl_files;
	size_t max_body;             /* larger bodies: 413 before any crypto */
	unsigned max_depth;          /* MIME nesting levels */
	unsigned max_parts;          /* MIME parts in all */
	unsigned workers;            /* crypto threads; 0 in the file is
	                                resolved to the online CPUs: >= 1 */
	unsigned queue;              /* crypto jobs waiting; beyond: 503 */
	unsigned retry_after;        /* seconds, in that 503's Retry-After */
	char **content_ciphers;      /* accepted CMS content encryption, as
	                                OpenSSL names them ("aes-128-cbc") */
	size_t ncontent_ciphers;

	unsigned decrypt_rate;       /* decryptions per second and source
	                                address; 0: unlimited */
	unsigned decrypt_burst;
	char **label_headers;        /* names of the label header field */
	size_t nlabel_headers;

	/* challenge: signed 495/496 responses (digest 4.6). Files are
	 * absolute; NULL when not set. */
	char *ch_signing_certificate;
	char *ch_signing_key;
	char **ch_signing_chain;
	size_t nch_signing_chain;
	char *ch_encryption_certificate; /* defaults to inspect.keys[0] */
	int ch_legacy_unsigned;      /* draft-literal 496: certificate only */
	int ch_sign_495;
	int ch_base64;               /* certificate and signature parts */
	int ch_certificate_once;     /* signer left out of the SignedData
	                                when it is the encryption cert */
	char *ch_warn_agent;         /* defaults to a name of ours */
	unsigned ch_496_code;
	char *ch_496_phrase;
	unsigned ch_495_code;
	char *ch_495_phrase;
	unsigned ch_warn_code;
	unsigned ch_rate;            /* challenges per second and source
	                                address; 0: unlimited */
	unsigned ch_burst;

	/* archive: the IM archive (conf_services.c). The file is absolute;
	 * NULL with the syslog target. */
	int archive_enabled;
	int archive_syslog;          /* target "syslog" (no durability) */
	char *archive_path;
	int archive_facility;        /* syslog facility */
	int archive_fail_open;       /* on_failure "forward": not "reject" */
	unsigned archive_max_wait_ms; /* group commit: longest wait */
	unsigned archive_max_batch;  /* records per fdatasync */
	unsigned archive_queue;      /* records waiting; beyond: failure */
	size_t archive_rotate_bytes; /* 0: never */
	unsigned archive_rotate_keep;

	/* pinholes: media pinholes from SDP (conf_services.c). */
	int pinholes_enabled;
	int pinholes_exec;           /* backend "exec", not "nftables" */
	char *pinholes_family;       /* nftables family, "inet" */
	char *pinholes_table;
	char *pinholes_set4;
	char *pinholes_set6;
	int pinholes_create;         /* create table and sets at start */
	int pinholes_allow_tcp;      /* TCP media (RFC 4145) get TCP holes */
	char *pinholes_program;      /* exec backend, absolute */
	struct netaddr *pinholes_networks; /* media must be inside these */
	size_t npinholes_networks;
	struct conf_port_range *pinholes_ports; /* and in these ranges */
	size_t npinholes_ports;
	unsigned pinholes_timeout_s;  /* element timeout, refreshed */
	unsigned pinholes_max_duration_s; /* a dialog's pinholes at most */
	unsigned pinholes_max_per_dialog;
	unsigned pinholes_max_total;

	/* edge: the RFC 5626 edge proxy phones register through
	 * (conf_edge.c) */
	int edge_path;               /* CONF_EDGE_* */
	char *edge_flow_key;         /* file; NULL: none */
	unsigned edge_flow_timer_udp;    /* Flow-Timer, s; 0: none */
	unsigned edge_flow_timer_stream;
	unsigned edge_max_flows;
	unsigned edge_max_flows_per_source;

	/* overload: new requests refused while behind (conf_overload.c) */
	int overload_enabled;
	unsigned overload_delay_low;  /* ms of queue delay: some refused */
	unsigned overload_delay_high; /* ms: all refused */
	unsigned overload_max_in_flight; /* 0: no bound */
	unsigned overload_retry_after;   /* s, in the 503 */
	int overload_loop_busy;  /* TCP/TLS judged by the loop's busy stretch */
	int overload_stream_backlog; /* and by their connection backed up */
	unsigned overload_stream_low;  /* ms backed up: some refused */
	unsigned overload_stream_high; /* every new one refused */

	/* metrics: /metrics and /status over HTTP (conf_daemon.c) */
	int metrics_enabled;
	char *metrics_address;       /* NULL: 127.0.0.1 */
	int metrics_port;

	/* policy: rules in file order, ready for struct policy (first match
	 * wins); none means the mechanism is not applied. policy_owned[i]
	 * holds what policy_rules[i] points into. */
	struct policy_rule *policy_rules;
	struct conf_policy_owned *policy_owned;
	size_t npolicy_rules;
};

/* edge.path: when REGISTERs get our Path (with a flow token). */
enum conf_edge_path {
	CONF_EDGE_OFF = 0,   /* not an edge proxy: REGISTER forwarded as is */
	CONF_EDGE_OUTBOUND,  /* when the UA asks for RFC 5626 outbound */
	CONF_EDGE_ALWAYS     /* every REGISTER (NATed phones without it) */
};
#define CONF_EDGE_KEY_MIN 16
#define CONF_EDGE_KEY_MAX 256
/* The flow token key in file (a trailing newline is not part of it):
 * 0 and key[*len], or -1 with err set. */
int conf_edge_read_key(const char *file, unsigned char *key, size_t *len,
    char *err, size_t errsz);

/* Receives one "file:line: message" (no newline) per error. */
typedef void conf_error_fn(void *arg, const char *msg);

/*
 * Parse and validate path. Every error is reported through fn, all of them
 * in one pass; returns NULL when there was at least one. Owned by the caller.
 */
struct conf *conf_load(const char *path, conf_error_fn *fn, void *arg);
/* conf_load(), then what the named files hold (conf_contents.c): keys
 * against their certificates, anchors, CRLs, the challenge's key and
 * chain, the TLS pair, a writable archive. What the daemon loads. */
struct conf *conf_load_checked(const char *path, conf_error_fn *fn,
    void *arg);
void conf_free(struct conf *c); /* NULL is fine */

const char *conf_transport_name(enum conf_transport t);

/*
 * A reload: the settings that only a restart applies (listeners, TLS,
 * threads, daemon, archive, pinholes) and that differ between the running
 * configuration a and the new b; fn gets each one's name. Returns how
 * many (conf_reload.c).
 */
typedef void conf_change_fn(void *arg, const char *name);
size_t conf_restart_changes(const struct conf *a, const struct conf *b,
    conf_change_fn *fn, void *arg);

/*
 * The schema: fn(path, arg) for every setting a configuration may hold,
 * by its full path ("log.level"), in table order; the settings of an
 * entry of a list of groups follow the list, as "sip.listen[].port".
 * For the tests that hold the documentation to the code.
 */
void conf_schema_each(void (*fn)(const char *path, void *arg), void *arg);

#endif /* CONF_H */
