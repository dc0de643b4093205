/* fuzz-headers.c - what a client sends besides the body: the session
 * token in Authorization and Cookie headers (token.c) and RFC 3339 times
 * in query parameters (timefmt.c), and what a browser asks of the web
 * client's files (web-files.c): If-None-Match, Accept-Encoding and the
 * path. Input: Authorization, a newline, Cookie; the whole input is also
 * tried as a time, an If-None-Match, an Accept-Encoding and a path. */
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
	{
		static struct web_file files[] = {
			{ "/index.html", "x", 1, "text/html", "\"0123456789abcdef0123\"" },
			{ "/js/app.js", "y", 1, "text/javascript", "\"3210fedcba9876543210\"" },
		};
		static const struct web_files site = { files, 2 };
		const struct web_file *f = web_files_find(&site, all);
		if (f && strcmp(f->path, all) != 0 && strcmp(all, "/") != 0)
			abort();
		(void)web_etag_listed(all, files[0].etag);
		(void)web_takes_gzip(all);
	}
	if (time_parse(all, &ms) == 0) {
		char out[40];
		time_format_ms(ms, out, sizeof(out));
	}
	free(all);
	return 0;
}
