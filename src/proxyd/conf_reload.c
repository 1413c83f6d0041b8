/*
 * conf_reload.c - which settings a reload cannot apply. Sockets, threads,
 * the archive's writer and the firewall back end are made once at the
 * start; a reload that changes what they were made from says so, setting
 * by setting, and the running ones stay (e2mproxyd.conf(5), RELOAD).
 */
#include "proxyd/conf.h"

#include <string.h>

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
strs_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return 0;
	return 1;
}

static int
nets_eq(const struct netaddr *a, size_t na, const struct netaddr *b,
    size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i].family != b[i].family || a[i].prefix != b[i].prefix ||
		    memcmp(a[i].addr, b[i].addr, sizeof(a[i].addr)) != 0)
			return 0;
	return 1;
}

static int
listen_eq(const struct conf *a, const struct conf *b)
{
	size_t i;

	if (a->nlisten != b->nlisten)
		return 0;
	for (i = 0; i < a->nlisten; i++)
		if (a->listen[i].transport != b->listen[i].transport ||
		    a->listen[i].port != b->listen[i].port ||
		    !str_eq(a->listen[i].address, b->listen[i].address))
			return 0;
	return 1;
}

static int
ports_eq(const struct conf *a, const struct conf *b)
{
	size_t i;

	if (a->npinholes_ports != b->npinholes_ports)
		return 0;
	for (i = 0; i < a->npinholes_ports; i++)
		if (a->pinholes_ports[i].lo != b->pinholes_ports[i].lo ||
		    a->pinholes_ports[i].hi != b->pinholes_ports[i].hi)
			return 0;
	return 1;
}

/* Reports name unless cond holds. */
#define CHANGED(cond, name) \
	do { if (!(cond)) { fn(arg, name); (*np)++; } } while (0)

/* The archive and pinhole settings, which matter only when enabled. */
static void
services(const struct conf *a, const struct conf *b, conf_change_fn *fn,
    void *arg, size_t *np)
{
	CHANGED(a->archive_enabled == b->archive_enabled, "archive.enabled");
	if (a->archive_enabled && b->archive_enabled) {
		CHANGED(a->archive_syslog == b->archive_syslog &&
		    str_eq(a->archive_path, b->archive_path) &&
		    a->archive_facility == b->archive_facility &&
		    a->archive_fail_open == b->archive_fail_open &&
		    a->archive_max_wait_ms == b->archive_max_wait_ms &&
		    a->archive_max_batch == b->archive_max_batch &&
		    a->archive_queue == b->archive_queue &&
		    a->archive_rotate_bytes == b->archive_rotate_bytes &&
		    a->archive_rotate_keep == b->archive_rotate_keep,
		    "archive");
	}
	CHANGED(a->pinholes_enabled == b->pinholes_enabled,
	    "pinholes.enabled");
	if (a->pinholes_enabled && b->pinholes_enabled) {
		CHANGED(a->pinholes_exec == b->pinholes_exec &&
		    str_eq(a->pinholes_family, b->pinholes_family) &&
		    str_eq(a->pinholes_table, b->pinholes_table) &&
		    str_eq(a->pinholes_set4, b->pinholes_set4) &&
		    str_eq(a->pinholes_set6, b->pinholes_set6) &&
		    a->pinholes_create == b->pinholes_create &&
		    a->pinholes_allow_tcp == b->pinholes_allow_tcp &&
		    str_eq(a->pinholes_program, b->pinholes_program) &&
		    nets_eq(a->pinholes_networks, a->npinholes_networks,
		    b->pinholes_networks, b->npinholes_networks) &&
		    ports_eq(a, b) &&
		    a->pinholes_timeout_s == b->pinholes_timeout_s &&
		    a->pinholes_max_duration_s == b->pinholes_max_duration_s &&
		    a->pinholes_max_per_dialog == b->pinholes_max_per_dialog &&
		    a->pinholes_max_total == b->pinholes_max_total,
		    "pinholes");
	}
}

size_t
conf_restart_changes(const struct conf *a, const struct conf *b,
    conf_change_fn *fn, void *arg)
{
	size_t n = 0, *np = &n;

	CHANGED(str_eq(a->daemon_user, b->daemon_user) &&
	    str_eq(a->daemon_group, b->daemon_group), "daemon.user/group");
	CHANGED(str_eq(a->pid_file, b->pid_file), "daemon.pid_file");
	CHANGED(listen_eq(a, b), "sip.listen");
	CHANGED(strs_eq(a->own_names, a->nown_names, b->own_names,
	    b->nown_names), "sip.own_names");
	CHANGED(a->transaction_timeout_ms == b->transaction_timeout_ms,
	    "sip.transaction_timeout");
	CHANGED(a->udp_mtu == b->udp_mtu, "sip.udp_mtu");
	CHANGED(a->idle_timeout_s == b->idle_timeout_s, "sip.idle_timeout");
	CHANGED(a->message_timeout_s == b->message_timeout_s,
	    "sip.message_timeout");
	CHANGED(a->send_timeout_s == b->send_timeout_s, "sip.send_timeout");
	CHANGED(a->max_connections_per_source == b->max_connections_per_source,
	    "sip.max_connections_per_source");
	CHANGED(a->udp_buffer == b->udp_buffer, "sip.udp_buffer");
	CHANGED(a->source_rate == b->source_rate &&
	    a->source_burst == b->source_burst, "sip.source_rate/burst");
	CHANGED(nets_eq(a->source_exempt, a->nsource_exempt, b->source_exempt,
	    b->nsource_exempt), "sip.source_exempt");
	CHANGED(str_eq(a->tls_certificate, b->tls_certificate) &&
	    str_eq(a->tls_key, b->tls_key) &&
	    str_eq(a->tls_ca_file, b->tls_ca_file) &&
	    a->tls_verify_server == b->tls_verify_server &&
	    a->tls_verify_client == b->tls_verify_client, "tls");
	CHANGED(a->workers == b->workers, "inspect.workers");
	CHANGED(a->queue == b->queue, "inspect.queue");
	CHANGED(a->edge_path == b->edge_path &&
	    str_eq(a->edge_flow_key, b->edge_flow_key) &&
	    a->edge_flow_timer_udp == b->edge_flow_timer_udp &&
	    a->edge_flow_timer_stream == b->edge_flow_timer_stream &&
	    a->edge_max_flows == b->edge_max_flows &&
	    a->edge_max_flows_per_source == b->edge_max_flows_per_source,
	    "edge");
	CHANGED(a->metrics_enabled == b->metrics_enabled &&
	    str_eq(a->metrics_address, b->metrics_address) &&
	    a->metrics_port == b->metrics_port, "metrics");
	services(a, b, fn, arg, np);
#undef CHANGED
	return n;
}
