// SPDX-License-Identifier: MIT
/* vpn.yaml (vpn/vpn.c). */
#include "tests/fuzz/harness.h"
#include "vpn/vpn.h"

void fuzz_one(const char *buf, size_t len, struct diag_list *dl)
{
	struct vpn_config *c = NULL;
	int rc = vpn_load_buffer(buf, len, "vpn.yaml", dl, &c);
	FUZZ_ASSERT((rc == 0) == (c != NULL));
	FUZZ_ASSERT(rc != 0 || diag_errors(dl) == 0);
	vpn_config_free(c);
}
