/*
 * crypto.c - the two pieces of cryptography korpud needs: SHA-256 (OpenSSL's
 * libcrypto, not code of our own) and session tokens of 256 bits from the
 * kernel's random source.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "korpud.h"

/* SHA-256 of data as 64 lowercase hex digits and a NUL. */
int
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

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
