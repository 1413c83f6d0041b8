/* privdrop.c - setgroups, setresgid, setresuid, verified (privdrop.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setresuid, getresuid */
#endif

#include "proxyd/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Effective and permitted: CAP_NET_ADMIN only, or nothing. */
static int
set_caps(int net_admin)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (net_admin) {
		d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
		    CAP_TO_MASK(CAP_NET_ADMIN);
		d[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
		    CAP_TO_MASK(CAP_NET_ADMIN);
	}
	return (int)syscall(SYS_capset, &h, d);
}

static int
fail(char *err, size_t errsz, const char *what)
{
	snprintf(err, errsz, "%s: %s", what, strerror(errno));
	return -1;
}

int
privdrop(const char *user, const char *group, int keep_net_admin,
    char *err, size_t errsz)
{
	const struct passwd *pw;
	const struct group *gr;
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return fail(err, errsz, "no such user");
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			return fail(err, errsz, "no such group");
		gid = gr->gr_gid;
	}
	/* Capabilities survive setresuid only with KEEPCAPS set. */
	if (keep_net_admin && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		return fail(err, errsz, "prctl(PR_SET_KEEPCAPS)");
	if (setgroups(0, NULL) == -1)
		return fail(err, errsz, "setgroups");
	if (setresgid(gid, gid, gid) == -1)
		return fail(err, errsz, "setresgid");
	if (setresuid(uid, uid, uid) == -1)
		return fail(err, errsz, "setresuid");
	if (set_caps(keep_net_admin) == -1)
		return fail(err, errsz, "capset");
	if (keep_net_admin)
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	/* Trust, but verify: every id changed, and root cannot come back. */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || getgroups(0, NULL) != 0) {
		errno = EPERM;
		return fail(err, errsz, "ids not as set");
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		errno = EPERM;
		return fail(err, errsz, "root could be regained");
	}
	return 0;
}
