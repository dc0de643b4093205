/* fuzz-body.c - request bodies and Content-Type headers (http-body.c).
 * Input: a Content-Type line, a newline, then the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t clen = nl ? (size_t)(nl - data) : 0;
	char *ctype = strndup((const char *)data, clen);
	struct body_error err;
	json_t *doc;

	if (ctype == NULL)
		return 0;
	doc = body_parse_json(ctype, (const char *)data + (nl ? clen + 1 : 0),
	    size - (nl ? clen + 1 : 0), 65536, &err);
	if (doc == NULL && err.status != 400 && err.status != 413 && err.status != 415)
		abort();
	json_decref(doc);
	free(ctype);
	return 0;
}
