/*
 * ids.c - object ids: sortable by creation time, unguessable, and naming
 * the region whose hash tag holds the object, so a lookup by id goes
 * straight to the right Redis keys without an index of its own.
 *
 *   0mk3h2c9x7ab12cd34.baku
 *   ^^^^^^^^^^           milliseconds since 1970, base32, 10 digits
 *             ^^^^^^^^   40 random bits
 *                      . the region (organizations have none)
 *
 * Crockford's base32 digits keep lexical order equal to numeric order.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "korpud.h"

static const char digits[] = "0123456789abcdefghjkmnpqrstvwxyz";

int
id_new(char *out, size_t len, const char *region)
{
	struct timespec ts;
	uint64_t ms;
	unsigned char rnd[5];
	uint64_t bits = 0;
	char head[19];

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	for (int i = 9; i >= 0; i--, ms >>= 5)
		head[i] = digits[ms & 31];
	for (size_t i = 0; i < sizeof(rnd); i++)
		bits = bits << 8 | rnd[i];
	for (int i = 17; i >= 10; i--, bits >>= 5)
		head[i] = digits[bits & 31];
	head[18] = '\0';
	if (snprintf(out, len, "%s%s%s", head, region ? "." : "", region ? region : "")
	    >= (int)len)
		return -1;
	return 0;
}

/* Is s shaped like an id (optionally with a region)? Anything else is a
 * 404 before Redis is asked. */
int
id_valid(const char *s, int with_region)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	size_t n = dot ? (size_t)(dot - s) : (s ? strlen(s) : 0);

	if (n != 18 || (with_region != 0) != (dot != NULL))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strchr(digits, s[i]) == NULL || s[i] == '\0')
			return 0;
	if (dot) {
		const char *r = dot + 1;
		size_t rn = strlen(r);
		if (rn == 0 || rn > 32)
			return 0;
		for (size_t i = 0; i < rn; i++)
			if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
				return 0;
	}
	return 1;
}

/* The region part of an id, or NULL. */
const char *
id_region(const char *id)
{
	const char *dot = id ? strchr(id, '.') : NULL;

	return dot ? dot + 1 : NULL;
}
