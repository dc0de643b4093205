/*
 * sha256.c - SHA-256, from OpenSSL's libcrypto rather than code of our own.
 */
#include <stdio.h>
#include <string.h>

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
