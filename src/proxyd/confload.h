/*
 * confload.h - the machinery that turns a libconfig file into struct conf,
 * shared by the files that read its sections (conf.c: log, sip, tls,
 * routing, inspect; conf_policy.c: policy, challenge). Private to them.
 *
 * Each section is a table of struct option: a setting's name, its kind,
 * and where its value lands. Plain kinds (boolean, integer in a range,
 * one name of a table) are read by cl_load_group() itself; anything else
 * by the option's function. Every error is reported with its file and
 * line through cl_err(), and reading goes on, so that one pass finds all.
 * Helpers are prefixed cl_ ("configuration loader").
 */
#ifndef CONFLOAD_H
#define CONFLOAD_H

#include <stddef.h>

#include <libconfig.h>

#include "common/netaddr.h"
#include "proxyd/conf.h"

/* Long enough for any path built from known names and an index. */
#define PATHSZ 128

struct loader {
	const char *path;
	conf_error_fn *fn;
	void *arg;
	int nerrors;
	int oom;
	struct conf *c;
	int listen_seen;
	const config_setting_t *tls_listener; /* first one, for its line */
	int ciphers_seen;
};

enum kind { K_GROUP, K_BOOL, K_INT, K_UINT, K_SIZE, K_NAME, K_FN };

/* One accepted value of a K_NAME setting, exactly as written. */
struct conf_name {
	const char *name;
	int value;
};

struct option;
typedef void option_fn(struct loader *, const config_setting_t *,
    const char *, const struct option *, void *);

/*
 * One known setting. The value lands at base + off, where base is the
 * struct conf, or the conf_listen / conf_route / conf_keypair /
 * policy_rule of the entry being read. K_NAME stores the value of the
 * matching names[] entry (an int or an enum, which is int-sized) and
 * refuses any other string.
 */
struct option {
	const char *name;
	enum kind kind;
	long long min, max;
	size_t off;
	option_fn *fn;
	const struct option *sub;
	const struct conf_name *names; /* K_NAME: ends with a NULL name */
};

#define CONF_OFF(f)	offsetof(struct conf, f)
#define O_BOOL(n, f)	{ n, K_BOOL, 0, 0, CONF_OFF(f), NULL, NULL, NULL }
#define O_INT(n, lo, hi, o) { n, K_INT, lo, hi, o, NULL, NULL, NULL }
#define O_UINT(n, lo, hi, f) \
	{ n, K_UINT, lo, hi, CONF_OFF(f), NULL, NULL, NULL }
#define O_SIZE(n, lo, hi, f) \
	{ n, K_SIZE, lo, hi, CONF_OFF(f), NULL, NULL, NULL }
#define O_NAME(n, names, o) { n, K_NAME, 0, 0, o, NULL, NULL, names }
#define O_FN(n, fn)	{ n, K_FN, 0, 0, 0, fn, NULL, NULL }
#define O_FNAT(n, fn, f) { n, K_FN, 0, 0, CONF_OFF(f), fn, NULL, NULL }
#define O_GROUP(n, sub)	{ n, K_GROUP, 0, 0, 0, NULL, sub, NULL }
#define O_END		{ NULL, K_FN, 0, 0, 0, NULL, NULL, NULL }

/* Loads one entry of a list of groups (see cl_each_entry()). */
typedef void elem_fn(struct loader *, const config_setting_t *, const char *);

/* Errors: at s's file and line (s NULL: the file as a whole), or at a
 * given place. Control characters in the message become '?'. */
void cl_err(struct loader *l, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cl_err_at(struct loader *l, const char *file, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Allocation; a failure sets l->oom (reported once at the end). */
void *cl_calloc(struct loader *l, size_t n, size_t size);
char *cl_strdup(struct loader *l, const char *s);
char *cl_lower(char *s); /* in place; NULL is fine */
char *cl_upper(char *s);

/* Type checks that report: 1 (or the element count) when s is right. */
int cl_is_string(struct loader *l, const config_setting_t *s,
    const char *path);
int cl_strings(struct loader *l, const config_setting_t *s, const char *path);
int cl_nonempty_strings(struct loader *l, const config_setting_t *s,
    const char *path, const char *what);
int cl_get_integer(const config_setting_t *s, long long *v);

/* Value checks that do not report. */
int cl_is_host(const char *s, size_t len);
int cl_is_token(const char *s);   /* RFC 3261 token (a method name) */
int cl_is_sip_uri(const char *s); /* a plausible sip: or sips: URI */

/* Every member of g must be one of opts; path "" is the top level. */
void cl_load_group(struct loader *l, const config_setting_t *g,
    const char *path, const struct option *opts, void *base);
/* Entries of a list of groups: -1 (reported) when s is not such a list. */
int cl_group_list_len(struct loader *l, const config_setting_t *s,
    const char *path);
/* load() each entry with its own path ("sip.listen[2]"). */
void cl_each_entry(struct loader *l, const config_setting_t *s,
    const char *path, elem_fn *load);

/* A file: *to gets its absolute name (relative to the configuration
 * file's directory); it must be a readable regular file, and a secret
 * one (a private key) not accessible by group or others. */
void cl_check_file(struct loader *l, const config_setting_t *s,
    const char *path, const char *file, int secret, char **to);
/* Options naming a file at o->off, "" meaning none: any, or a secret. */
option_fn cl_opt_file, cl_opt_secret;
/* A syslog facility name at o->off (an int). */
option_fn cl_opt_facility;
/* An array of readable files; empty is fine. */
void cl_file_array(struct loader *l, const config_setting_t *s,
    const char *path, char ***to, size_t *n);
/* n strings of s (checked) as networks into a new *out; *count parsed. */
void cl_load_networks(struct loader *l, const config_setting_t *s,
    const char *path, int n, struct netaddr **out, size_t *count);
void cl_free_strings(char **v, size_t n);

/* A name from the configuration made absolute: relative to the directory
 * of the configuration file. NULL when out of memory. */
char *cl_absolute(struct loader *l, const char *file);

/* conf_services.c: the archive and pinholes sections. */
extern const struct option conf_archive_opts[];
extern const struct option conf_pinholes_opts[];
void conf_services_defaults(struct conf *c);
void conf_check_services(struct loader *l, const config_t *cfg);
/* conf_daemon.c: the daemon section. */
extern const struct option conf_daemon_opts[];
extern const struct option conf_metrics_opts[];
void conf_daemon_defaults(struct conf *c);
void conf_check_daemon(struct loader *l, const config_t *cfg);
void conf_free_daemon(struct conf *c);

/* conf_edge.c: the edge section. */
extern const struct option conf_edge_opts[];
void conf_edge_defaults(struct conf *c);
void conf_check_edge(struct loader *l, const config_t *cfg);
void conf_check_edge_key(struct loader *l, const config_t *cfg);
extern const struct option conf_overload_opts[];
void conf_overload_defaults(struct conf *c);
void conf_check_overload(struct loader *l, const config_t *cfg);

/* conf_contents.c: what the named files hold (conf_load_checked()). */
void conf_check_contents(struct loader *l, const config_t *cfg);
void conf_free_services(struct conf *c);

/* conf_policy.c: the policy and challenge sections. */
extern const struct option conf_policy_opts[];
extern const struct option conf_challenge_opts[];
/* Defaults and cross-checks of the challenge section, after loading. */
void conf_check_challenge(struct loader *l, const config_t *cfg);
void conf_free_policy_rule(const struct policy_rule *r,
    struct conf_policy_owned *o);

/* policy.rules' entries for conf_schema_each(): the table the entries
 * of option o are read with, or NULL (o is of conf_policy_opts). */
const struct option *conf_policy_entry_opts(const struct option *o);

#endif /* CONFLOAD_H */
