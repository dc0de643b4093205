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

/* A numeric IPv4 or IPv6 address (no port, no brackets). */
int
addr_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int
trusted(const struct strlist *list, const char *ip)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->v[i], ip) == 0)
			return 1;
	return 0;
}

/*
 * The client's address. Only a peer that is a trusted proxy may name
 * another one, in X-Forwarded-For; the list is read from its right end
 * (the hop nearest to us), skipping trusted proxies, and the first other
 * address is the client. Anything malformed ends the walk there: a
 * client cannot claim an address by sending the header itself.
 */
void
addr_client(const char *peer, const char *forwarded, const struct strlist *list,
    char *out, size_t len)
{
	char hop[64];
	const char *end;

	snprintf(out, len, "%s", peer);
	if (forwarded == NULL || !trusted(list, peer))
		return;
	end = forwarded + strlen(forwarded);
	while (end > forwarded) {
		const char *start = end;
		size_t n;

		while (start > forwarded && start[-1] != ',')
			start--;
		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		n = (size_t)(end - start);
		while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(hop))
			return;
		memcpy(hop, start, n);
		hop[n] = '\0';
		if (!addr_is_ip(hop))
			return;
		snprintf(out, len, "%s", hop);
		if (!trusted(list, hop))
			return;
		end = start;
		while (end > forwarded && end[-1] != ',')
			end--;
		if (end > forwarded)
			end--;		/* the comma */
	}
}
