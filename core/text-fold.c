/*
 * text-fold.c - search keys for client names.
 *
 * A caseworker looks a client up by typing the name, on whatever keyboard
 * the office has, in whatever case. The key folds away the differences
 * that come from the keyboard and the case and keeps every other
 * difference, so a search finds the same person however the name was
 * typed and does not merge names that are really different:
 *
 *  - Case. Latin (ASCII, Latin-1, Latin Extended-A, and the one Latin
 *    Extended-B letter Azerbaijani uses: Ə U+018F -> ə U+0259), Greek,
 *    Cyrillic U+0400-U+04FF (with the Azerbaijani, Kazakh and other
 *    extensions: Ҝ, Һ, Ә, Ө, Ү, Ғ, Ҹ, Ј...), Armenian and Georgian
 *    Mtavruli fold to small letters. The mapping is Unicode's simple
 *    lower-case mapping for those blocks, written as ranges (every
 *    letter checked against Python's str.lower() when this was written)
 *    because ICU would be a new dependency for a few hundred letters.
 *    Greek final ς folds to σ as well, since a name typed in capitals has
 *    only Σ. Precomposed letters fold case-wise only: É -> é, and é stays
 *    é; accents are never removed, since in Azerbaijani and Turkish they
 *    tell different letters apart (o/ö, u/ü, c/ç, s/ş, g/ğ).
 *
 *  - The Turkic I. Azerbaijani and Turkish have two i's: I/ı without a
 *    dot and İ/i with one, and Unicode's mapping lower-cases I to i and
 *    İ to i plus a combining dot. Staff keyboards vary (many have no ı
 *    or İ key) and caseworkers type "ismayil" or "ISMAYIL" for İsmayıl, so
 *    I U+0049, İ U+0130, ı U+0131 and i all fold to plain i. This
 *    deliberately merges ı and i: "Qızı" and "Qizi" get the same key. A
 *    search finding one false match is cheap; a search missing the client
 *    is not. For the same reason a combining dot above U+0307 right after
 *    such an i is dropped: what other software makes of İ when it
 *    lower-cases it ("i̇") gets the same key as what we make of it.
 *
 *  - Arabic script (Arabic and Persian names) has no case, but the same
 *    name comes out differently from an Arabic and a Persian keyboard, and
 *    with or without vowel marks. So tatweel U+0640 and the harakat
 *    (U+064B-U+065F, U+0670) are removed, and letters with several
 *    keyboard forms fold to one canonical form, always the one in the
 *    basic Arabic alphabet (U+0621-U+064A):
 *        alef   آ U+0622, أ U+0623, إ U+0625, ٱ U+0671   -> ا U+0627
 *        yeh    ی U+06CC (Persian), ى U+0649 (alef maksura) -> ي U+064A
 *        kaf    ک U+06A9 (Persian)                          -> ك U+0643
 *    Removing U+0653-U+0655 (madda, hamza above and below) also makes a
 *    decomposed آ (ا plus madda) fold like the precomposed one.
 *
 *  - Whitespace. Runs of space, tab and no-break space U+00A0 become one
 *    ASCII space, and the ends are trimmed, since pasted names carry
 *    stray spaces and NBSPs that nobody sees.
 *
 * Everything else passes through as it is. There is no Unicode
 * normalisation: decomposed é (e plus U+0301) does not match precomposed
 * é. Browsers and the directory send NFC, and a normaliser is a table
 * the size of ICU's.
 *
 * Every mapping goes to a letter that maps to itself and never to a
 * longer UTF-8 sequence, so folding twice gives the same key and the key
 * is never longer than the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "text-fold.h"

/* fold_char() result for a character that the key leaves out. */
#define FOLD_DROP UINT32_MAX

/* A run where capitals and small letters alternate, capital first: the
 * capital at first + 2k folds to the small letter right after it. */
struct fold_pairs {
	uint32_t first, last;
};

static const struct fold_pairs pairs[] = {
	{ 0x0100, 0x012f },	/* Ā ā ... Į į */
	{ 0x0132, 0x0137 },	/* Ĳ ĳ Ĵ ĵ Ķ ķ */
	{ 0x0139, 0x0148 },	/* Ĺ ĺ ... Ň ň */
	{ 0x014a, 0x0177 },	/* Ŋ ŋ ... Ŷ ŷ (with Ş ş) */
	{ 0x0179, 0x017e },	/* Ź ź Ż ż Ž ž */
	{ 0x0370, 0x0373 },	/* Greek heta, archaic sampi */
	{ 0x0376, 0x0377 },	/* pamphylian digamma */
	{ 0x03d8, 0x03ef },	/* archaic koppa ... Coptic letters */
	{ 0x03f7, 0x03f8 },	/* sho */
	{ 0x03fa, 0x03fb },	/* san */
	{ 0x0460, 0x0481 },	/* Cyrillic omega ... koppa */
	{ 0x048a, 0x04bf },	/* Ҋ ... Ҿ: Ғ Ҝ Ү Ҹ Һ and the like */
	{ 0x04c1, 0x04ce },	/* Ӂ ... Ӎ */
	{ 0x04d0, 0x04ff },	/* Ӑ ... Ӿ: Ә Ө and the like */
};

/* A run of capitals whose small letters sit delta further on. */
struct fold_shift {
	uint32_t first, last;
	int32_t delta;
};

static const struct fold_shift shifts[] = {
	{ 0x0041, 0x005a, 0x20 },	/* A-Z; I among them, as the Turkic I wants */
	{ 0x00c0, 0x00d6, 0x20 },	/* À-Ö; × U+00D7 is not a letter */
	{ 0x00d8, 0x00de, 0x20 },	/* Ø-Þ */
	{ 0x0391, 0x03a1, 0x20 },	/* Α-Ρ; U+03A2 is unassigned */
	{ 0x03a3, 0x03ab, 0x20 },	/* Σ-Ϋ */
	{ 0x0400, 0x040f, 0x50 },	/* Ѐ-Џ, with Ё and Ј */
	{ 0x0410, 0x042f, 0x20 },	/* А-Я */
	{ 0x0531, 0x0556, 0x30 },	/* Armenian Ա-Ֆ */
	{ 0x1c90, 0x1cba, -0xbc0 },	/* Georgian Mtavruli Ა-Ჺ -> Mkhedruli ა-ჺ */
	{ 0x1cbd, 0x1cbf, -0xbc0 },	/* Ჽ-Ჿ -> ჽ-ჿ */
};

/* Characters that fold alone, in code point order. */
struct fold_one {
	uint32_t from, to;
};

static const struct fold_one singles[] = {
	{ 0x0130, 0x0069 },	/* İ -> i (the Turkic I) */
	{ 0x0131, 0x0069 },	/* ı -> i (the Turkic I) */
	{ 0x0178, 0x00ff },	/* Ÿ -> ÿ */
	{ 0x018f, 0x0259 },	/* Ə -> ə (Azerbaijani) */
	{ 0x037f, 0x03f3 },	/* Ϳ -> ϳ */
	{ 0x0386, 0x03ac },	/* Ά -> ά */
	{ 0x0388, 0x03ad },	/* Έ -> έ */
	{ 0x0389, 0x03ae },	/* Ή -> ή */
	{ 0x038a, 0x03af },	/* Ί -> ί */
	{ 0x038c, 0x03cc },	/* Ό -> ό */
	{ 0x038e, 0x03cd },	/* Ύ -> ύ */
	{ 0x038f, 0x03ce },	/* Ώ -> ώ */
	{ 0x03c2, 0x03c3 },	/* final ς -> σ: capitals have only Σ */
	{ 0x03cf, 0x03d7 },	/* Ϗ -> ϗ */
	{ 0x03f4, 0x03b8 },	/* ϴ -> θ */
	{ 0x03f9, 0x03f2 },	/* Ϲ -> ϲ */
	{ 0x03fd, 0x037b },	/* Ͻ -> ͻ */
	{ 0x03fe, 0x037c },	/* Ͼ -> ͼ */
	{ 0x03ff, 0x037d },	/* Ͽ -> ͽ */
	{ 0x04c0, 0x04cf },	/* palochka Ӏ -> ӏ */
	{ 0x0622, 0x0627 },	/* alef with madda آ -> ا */
	{ 0x0623, 0x0627 },	/* alef with hamza above أ -> ا */
	{ 0x0625, 0x0627 },	/* alef with hamza below إ -> ا */
	{ 0x0649, 0x064a },	/* alef maksura ى -> ي */
	{ 0x0671, 0x0627 },	/* alef wasla ٱ -> ا */
	{ 0x06a9, 0x0643 },	/* Persian keheh ک -> ك */
	{ 0x06cc, 0x064a },	/* Persian yeh ی -> ي */
};

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* What c becomes in the key: itself, another character, or FOLD_DROP. */
static uint32_t
fold_char(uint32_t c)
{
	size_t i;

	/* Everything folded lies in A .. U+1CBF: most text never gets past
	 * this test. */
	if (c < 0x41 || c > 0x1cbf)
		return c;
	/* Tatweel and harakat are how a name is drawn, not spelled. */
	if (c == 0x0640 || (c >= 0x064b && c <= 0x065f) || c == 0x0670)
		return FOLD_DROP;
	for (i = 0; i < NITEMS(shifts); i++)
		if (c >= shifts[i].first && c <= shifts[i].last)
			return (uint32_t)((int32_t)c + shifts[i].delta);
	for (i = 0; i < NITEMS(pairs); i++)
		if (c >= pairs[i].first && c <= pairs[i].last)
			return ((c - pairs[i].first) % 2 == 0) ? c + 1 : c;
	for (i = 0; i < NITEMS(singles) && singles[i].from <= c; i++)
		if (singles[i].from == c)
			return singles[i].to;
	return c;
}

/* Decodes one character from p (avail > 0 bytes) into *cp: its length in
 * bytes, or 0 when p does not start with a well-formed UTF-8 sequence (a
 * stray continuation byte, a truncated sequence, an overlong form, a
 * surrogate or a code point past U+10FFFF). */
static size_t
fold_decode(const unsigned char *p, size_t avail, uint32_t *cp)
{
	static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c = p[0];
	size_t n, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
	} else
		return 0;
	if (n > avail)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[k] & 0x3f);
	}
	if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Writes c as UTF-8 at o: the number of bytes written. */
static size_t
fold_encode(uint32_t c, char *o)
{
	unsigned char *u = (unsigned char *)o;

	if (c < 0x80) {
		u[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		u[0] = (unsigned char)(0xc0 | c >> 6);
		u[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		u[0] = (unsigned char)(0xe0 | c >> 12);
		u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | c >> 18);
	u[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	u[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	u[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

char *
text_fold(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	size_t i = 0, n;
	uint32_t c;
	int space = 0;

	if ((s == NULL && len != 0) || len == SIZE_MAX)
		return NULL;
	/* No character folds to a longer UTF-8 sequence (İ, ı and NBSP even
	 * shrink to one byte), so len + 1 bytes always hold the key. */
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	o = out;
	while (i < len) {
		/* A NUL would cut the key short wherever it is used as a C
		 * string; no name has one. */
		if ((n = fold_decode(p + i, len - i, &c)) == 0 || c == 0) {
			free(out);
			return NULL;
		}
		i += n;
		if (c == ' ' || c == '\t' || c == 0xa0) {
			space = 1;
			continue;
		}
		if ((c = fold_char(c)) == FOLD_DROP)
			continue;
		/* The dot of İ, when something lower-cased it to i + U+0307
		 * before us: the Turkic I folds to a plain i. Judged on what
		 * is already in the key, so a run of dots all go and folding
		 * the key again changes nothing. */
		if (c == 0x0307 && !space && o > out && o[-1] == 'i')
			continue;
		/* A pending space is written only between two characters, which
		 * trims both ends. */
		if (space && o > out)
			*o++ = ' ';
		space = 0;
		o += fold_encode(c, o);
	}
	*o = '\0';
	return out;
}
