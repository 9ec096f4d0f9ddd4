// SPDX-License-Identifier: MIT
/* Privilege drop: setuid with PR_SET_KEEPCAPS, then capset. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/privs.h"

/* Runs as user, keeping only CAP_NET_RAW (reopening captures) and
 * CAP_NET_ADMIN (reading the nftables counters) in the permitted and
 * effective sets: capabilities(7), "Effect of user ID changes". */
int privs_drop(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	const uint64_t keep = (1ull << CAP_NET_RAW) | (1ull << CAP_NET_ADMIN);
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0)
		return -errno;
	/* The bounding set limits what any later execve could regain. */
	for (int cap = 0; cap <= 63; cap++)
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, (long)cap, 0L, 0L, 0L) != 0 &&
		    errno != EINVAL)
			return -errno;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return -errno;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)keep;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0)
		return -errno;
	/* Root must be gone for good. */
	if (pw->pw_uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}
