/*
 * text.c - cutting and cleaning UTF-8 text that came from outside (the
 * directory, clients), so what korpud stores, answers and logs is always
 * whole characters and never a terminal escape.
 */
#include <stdio.h>
#include <string.h>

#include "korpud.h"

/* The longest prefix of s[0..len) of at most max bytes that does not cut
 * a UTF-8 character in half. */
size_t
utf8_prefix_len(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Copies src (srclen bytes) into dst as a NUL-terminated string, cut on a
 * character boundary when it does not fit. */
void
utf8_copy(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n;

	if (dstlen == 0)
		return;
	n = utf8_prefix_len(src, srclen, dstlen - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* in with every byte below 0x20 and 0x7f written as \xNN: for log lines,
 * where a client's control characters could forge or hide entries. */
void
text_printable(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in && o + 5 < outlen; in++) {
		unsigned char c = (unsigned char)*in;
		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Is s (NUL-terminated) well-formed UTF-8: no overlongs, no surrogates,
 * nothing above U+10FFFF? Query strings arrive percent-decoded, unchecked. */
int
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		int n;
		unsigned cp, min;

		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}
