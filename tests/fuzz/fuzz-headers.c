/* fuzz-headers.c - what a client sends besides the body: the session
 * token in Authorization and Cookie headers (token.c) and RFC 3339 times
 * in query parameters (timefmt.c). Input: Authorization, a newline,
 * Cookie; the whole input is also tried as a time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *all = strndup((const char *)data, size), *nl, buf[64];
	const char *t;
	int64_t ms;

	if (all == NULL)
		return 0;
	nl = strchr(all, '\n');
	if (nl)
		*nl = '\0';
	t = session_token_parse(all, nl ? nl + 1 : NULL, buf, sizeof(buf));
	if (t && !token_valid(t))
		abort();
	if (time_parse(all, &ms) == 0) {
		char out[40];
		time_format_ms(ms, out, sizeof(out));
	}
	free(all);
	return 0;
}
