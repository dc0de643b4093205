/*
 * net-addr.c - "address:port" as written in the config: a numeric IPv4
 * address or a bracketed IPv6 one, and a port 0-65535 (0: any free port).
 * Numeric only, because resolving a name would block the event loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "korpud.h"

int
addr_parse(const char *s, char *host, size_t hlen, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	unsigned char buf[sizeof(struct in6_addr)];
	unsigned long p;
	size_t n;
	char *end;
	int v6 = 0;

	if (colon == NULL)
		return -1;
	n = (size_t)(colon - s);
	if (*h == '[') {
		if (n < 3 || s[n - 1] != ']')
			return -1;
		h++;
		n -= 2;
		v6 = 1;
	}
	if (n == 0 || n >= hlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1)
		return -1;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || colon[1] == '-' || colon[1] == '+' || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}
