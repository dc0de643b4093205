/* fuzz-fold.c - search keys of client names (text-fold.c). Input: any
 * bytes. The key must be NULL exactly when the input is not well-formed
 * UTF-8 or holds a NUL; otherwise well-formed UTF-8 without NUL, no
 * longer than the input, with its whitespace collapsed, and its own key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text-fold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Well-formed UTF-8 without NUL, checked byte by byte against the table
 * of well-formed sequences (Unicode 3.9, table 3-7) rather than by
 * decoding the way text-fold.c does. */
static int
utf8_ok(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t b = s[i], lo = 0x80, hi = 0xbf;
		size_t n, k;

		if (b == 0)
			return 0;
		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			n = 2;
		else if (b >= 0xe0 && b <= 0xef)
			n = 3;
		else if (b >= 0xf0 && b <= 0xf4)
			n = 4;
		else
			return 0;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f;
		else if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *key = text_fold((const char *)data, size);
	char *again;
	size_t n;

	if (key == NULL) {
		/* Refused: the input must have been bad (no malloc fails here). */
		if (utf8_ok(data, size))
			abort();
		return 0;
	}
	if (!utf8_ok(data, size))
		abort();
	n = strlen(key);
	if (n > size || !utf8_ok((const uint8_t *)key, n))
		abort();
	/* Whitespace: single ASCII spaces between characters, nothing else. */
	if (n > 0 && (key[0] == ' ' || key[n - 1] == ' '))
		abort();
	if (strstr(key, "  ") != NULL || strchr(key, '\t') != NULL ||
	    strstr(key, "\xc2\xa0") != NULL)
		abort();
	/* Tatweel never survives. */
	if (strstr(key, "\xd9\x80") != NULL)
		abort();
	again = text_fold(key, n);
	if (again == NULL || strcmp(again, key) != 0)
		abort();
	free(again);
	free(key);
	return 0;
}
