/* fuzz-conf.c - korpud.conf as an administrator might write it
 * (libconfig parsing, conf-check.c, conf-load.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "korpud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	char path[128];
	struct errlist errs = { 0 };
	struct conf *c;
	FILE *f;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/korpu-fuzz-conf-%d", (int)getpid());
		if (mkdtemp(strcpy(path, "/tmp/korpu-fuzz-conf-XXXXXX")) == NULL)
			return 0;
		snprintf(dir, sizeof(dir), "%s", path);
	}
	snprintf(path, sizeof(path), "%s/korpud.conf", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	c = conf_load(path, &errs);
	if ((c == NULL) != (errs.n > 0))
		abort();		/* refused without a reason, or the reverse */
	conf_free(c);
	errlist_free(&errs);
	return 0;
}
