/*
 * conf_edge.c - the edge section: the proxy as the RFC 5626 / RFC 3327
 * edge proxy phones register through (Path with flow tokens, flows kept
 * and bounded, Flow-Timer), and the flow token key, whose contents are
 * read here too (a key too short to protect anything is refused at -c).
 */
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxyd/conf.h"
#include "proxyd/confload.h"

static const struct conf_name path_modes[] = {
	{ "off", CONF_EDGE_OFF },
	{ "outbound", CONF_EDGE_OUTBOUND },
	{ "always", CONF_EDGE_ALWAYS },
	{ NULL, 0 }
};

const struct option conf_edge_opts[] = {
	O_NAME("path", path_modes, CONF_OFF(edge_path)),
	O_FNAT("flow_key", cl_opt_secret, edge_flow_key),
	O_UINT("flow_timer_udp", 0, 3600, edge_flow_timer_udp),
	O_UINT("flow_timer_stream", 0, 3600, edge_flow_timer_stream),
	O_UINT("max_flows", 1, 10000000, edge_max_flows),
	O_UINT("max_flows_per_source", 1, 10000000, edge_max_flows_per_source),
	O_END
};

/* RFC 5626 4.4.1: a UDP NAT binding lasts tens of seconds, a TCP one
 * minutes; the suggested intervals are just under those. */
void
conf_edge_defaults(struct conf *c)
{
	c->edge_path = CONF_EDGE_OFF;
	c->edge_flow_timer_udp = 29;
	c->edge_flow_timer_stream = 120;
	c->edge_max_flows = 100000;
	c->edge_max_flows_per_source = 256;
}

void
conf_check_edge(struct loader *l, const config_t *cfg)
{
	const config_setting_t *s = config_lookup(cfg, "edge.path");

	if (l->c->edge_path != CONF_EDGE_OFF && l->c->edge_flow_key == NULL)
		cl_err(l, s, "edge.path: needs edge.flow_key (the key that "
		    "protects flow tokens)");
}

int
conf_edge_read_key(const char *file, unsigned char *key, size_t *len,
    char *err, size_t errsz)
{
	ssize_t n;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
		return -1;
	}
	n = read(fd, key, CONF_EDGE_KEY_MAX);
	close(fd);
	if (n < 0) {
		snprintf(err, errsz, "%s: %s", file, strerror(errno));
		return -1;
	}
	/* A text key ("openssl rand -hex 32 > flow.key"): the newline is not
	 * part of it. */
	while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
		n--;
	if (n < CONF_EDGE_KEY_MIN) {
		snprintf(err, errsz, "%s: %zd bytes; a flow token key needs at "
		    "least %d (e.g. openssl rand -hex 32)", file, n,
		    CONF_EDGE_KEY_MIN);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

void
conf_check_edge_key(struct loader *l, const config_t *cfg)
{
	unsigned char key[CONF_EDGE_KEY_MAX];
	char err[512];
	size_t len;

	if (l->c->edge_flow_key == NULL)
		return;
	if (conf_edge_read_key(l->c->edge_flow_key, key, &len, err,
	    sizeof(err)) != 0)
		cl_err(l, config_lookup(cfg, "edge.flow_key"), "edge.flow_key: "
		    "%s", err);
	memset(key, 0, sizeof(key));
}
