/*
 * token.c - session tokens: 256 bits from the kernel's random source,
 * written as 43 base64url characters, and finding one in the headers a
 * client sends. Pure functions, for the unit tests and the fuzz target.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "korpud.h"

/* A new session token: 32 random bytes, base64url without padding
 * (43 characters and a NUL). */
int
token_new(char out[44])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[33];
	size_t o = 0;

	if (getrandom(raw, 32, 0) != 32)
		return -1;
	raw[32] = 0;
	for (size_t i = 0; i < 33; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (o < 43)
			out[o++] = b64[(v >> 6) & 63];
		if (o < 43)
			out[o++] = b64[v & 63];
	}
	out[43] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* A token as a client sends it back: exactly what token_new makes. */
int
token_valid(const char *s)
{
	if (s == NULL || strlen(s) != 43)
		return 0;
	for (size_t i = 0; i < 43; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* The token in an Authorization header value ("Bearer T") or, when there
 * is none, in a Cookie header value ("a=b; korpu_session=T"). NULL when
 * neither holds a well-formed token. Pure, for the tests and fuzzing. */
const char *
session_token_parse(const char *auth, const char *cookie, char *buf, size_t len)
{
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *t = auth + 7;
		while (*t == ' ')
			t++;
		snprintf(buf, len, "%s", t);
		return token_valid(buf) ? buf : NULL;
	}
	for (const char *p = cookie; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, SESSION_COOKIE "=", sizeof(SESSION_COOKIE)) == 0) {
			const char *v = p + sizeof(SESSION_COOKIE);
			size_t n = strcspn(v, ";");
			if (n < len) {
				memcpy(buf, v, n);
				buf[n] = '\0';
				if (token_valid(buf))
					return buf;
			}
		}
		p = strchr(p, ';');
	}
	return NULL;
}
