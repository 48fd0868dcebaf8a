// SPDX-License-Identifier: MIT
/*
 * Which script lines have a real-kernel form (docs/oracle.md, "The
 * diff"): the verbs the model has and the guest cannot perform on
 * Debian's kernels. 'dmaown kernel' leaves them out (diff) or refuses
 * them (run); dmaown-walk's --kernel-scripts never writes them.
 */
#include <string.h>

#include "kernel/kernel.h"

static const char *const refused_verbs[] = {
	"@fault", "@iommu", "@concurrent", "@option", "@hotplug", "@as",
	"@close", "@exit", "@show", "@iommufd", "ulimit",
	"@vfio cdev-open", "@vfio bind-iommufd", "@vfio attach-ioas",
	"@vfio detach-ioas", "@vfio hot-reset",
};

const char *kernel_line_refused(const char *line)
{
	const char *s = line + strspn(line, " \t");

	while (!strncmp(s, "sudo ", 5))
		s += 5 + strspn(s + 5, " \t");
	for (size_t i = 0; i < sizeof(refused_verbs) / sizeof(refused_verbs[0]); i++) {
		size_t n = strlen(refused_verbs[i]);

		if (!strncmp(s, refused_verbs[i], n) &&
		    (s[n] == ' ' || s[n] == '\t' || !s[n] || s[n] == '-'))
			return refused_verbs[i];
	}
	return NULL;
}
