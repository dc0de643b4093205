/* fuzz-addr.c - "address:port" from the config (net-addr.c) and
 * percent-encoded path segments (http-router.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	char host[64], out[ROUTE_PARAM_MAX];
	unsigned port;
	int n;

	if (s == NULL)
		return 0;
	if (addr_parse(s, host, sizeof(host), &port) == 0 && port > 65535)
		abort();
	n = router_percent_decode((const char *)data, size, out, sizeof(out));
	/* A decoded '/' (%2F) or NUL (%00) must be refused: only a literal
	 * '/' can pass, and the router never hands one over. */
	if (n >= 0 && ((size_t)n >= sizeof(out) ||
	    (memchr(out, '/', (size_t)n) && !memchr(data, '/', size)) ||
	    (memchr(out, '\0', (size_t)n) && !memchr(data, '\0', size))))
		abort();
	{
		char *proxies[] = { "127.0.0.1", "::1" };
		struct strlist trusted = { proxies, 2 };
		char client[64];
		addr_client("127.0.0.1", s, &trusted, client, sizeof(client));
		if (strcmp(client, "127.0.0.1") != 0 && !addr_is_ip(client))
			abort();	/* only real addresses come out */
	}
	free(s);
	return 0;
}
