/*
 * test-fold.c - text_fold(), the search key of a client's name: case,
 * the Turkic I, Arabic and Persian keyboard forms, whitespace, invalid
 * UTF-8, and that folding a key again changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text-fold.h"

struct fold_case {
	const char *in, *want;	/* want NULL: refused */
};

/* in (a C string) must fold to want, and want must fold to itself. */
static void
assert_fold(const char *in, const char *want)
{
	char *got = text_fold(in, strlen(in));
	char *again;

	if (want == NULL) {
		if (got != NULL)
			fail_msg("\"%s\" folded to \"%s\", want NULL", in, got);
		return;
	}
	if (got == NULL)
		fail_msg("\"%s\" refused, want \"%s\"", in, want);
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\" folded to \"%s\", want \"%s\"", in, got, want);
	assert_true(strlen(got) <= strlen(in));
	again = text_fold(got, strlen(got));
	if (again == NULL || strcmp(again, got) != 0)
		fail_msg("not idempotent: \"%s\" -> \"%s\" -> \"%s\"", in, got,
		    again ? again : "NULL");
	free(again);
	free(got);
}

static void
assert_cases(const struct fold_case *c)
{
	for (; c->in != NULL; c++)
		assert_fold(c->in, c->want);
}

static const struct fold_case ascii_cases[] = {
	{ "", "" },
	{ "leyla", "leyla" },
	{ "Leyla Mammadova", "leyla mammadova" },
	{ "LEYLA MAMMADOVA", "leyla mammadova" },
	{ "O'Brien-Smith", "o'brien-smith" },
	{ "AZaz@[`{09", "azaz@[`{09" },
	{ "a\nb\r", "a\nb\r" },		/* only space, tab and NBSP are whitespace */
	{ NULL, NULL }
};

static const struct fold_case azerbaijani_cases[] = {
	{ "Əliyev", "əliyev" },
	{ "əliyev", "əliyev" },
	{ "ƏLİYEV", "əliyev" },
	{ "İsmayıl", "ismayil" },
	{ "ismayil", "ismayil" },
	{ "ISMAYIL", "ismayil" },
	{ "İSMAYIL", "ismayil" },
	{ "ısmayıl", "ismayil" },
	{ "Şəhla", "şəhla" },
	{ "ŞƏHLA", "şəhla" },
	{ "Göyçə", "göyçə" },
	{ "GÖYÇƏ", "göyçə" },
	{ "Ağa", "ağa" },
	{ "AĞA", "ağa" },
	{ "Üzeyir", "üzeyir" },
	{ "ÜZEYİR", "üzeyir" },
	{ "Çingiz", "çingiz" },
	{ "ÇİNGİZ", "çingiz" },
	/* İ as other software lower-cases it: i + combining dot above. */
	{ "i\u0307smayıl", "ismayil" },
	{ "I\u0307SMAYIL", "ismayil" },
	{ "i\u0307\u0307", "i" },
	/* The dot stays where it does not follow an i. */
	{ "a\u0307", "a\u0307" },
	{ "i \u0307", "i \u0307" },
	{ "\u0307", "\u0307" },
	/* Accents tell letters apart and stay: o/ö, c/ç, s/ş, g/ğ. */
	{ "Goyce", "goyce" },
	{ "Sehla", "sehla" },
	{ NULL, NULL }
};

static const struct fold_case latin_cases[] = {
	{ "ÉLODIE", "élodie" },
	{ "Élodie", "élodie" },
	{ "élodie", "élodie" },
	{ "ÀÖØÞ×", "àöøþ×" },
	{ "Straße", "straße" },		/* no full folding: ß stays */
	{ "ŸVES", "ÿves" },
	{ "ŁUKASZ ŻÓŁKIEWSKI", "łukasz żółkiewski" },
	{ "ŠŤĚPÁN ŇŮŽ", "šťěpán ňůž" },
	{ "ĲSSEL", "ĳssel" },
	/* Decomposed é stays decomposed: no normalisation. */
	{ "E\u0301", "e\u0301" },
	{ NULL, NULL }
};

static const struct fold_case cyrillic_cases[] = {
	{ "Мамедова", "мамедова" },
	{ "МАМЕДОВА", "мамедова" },
	{ "мамедова", "мамедова" },
	{ "Ёлкин", "ёлкин" },
	{ "ЁЛКИН", "ёлкин" },
	{ "ЎЄЇІЈЉЊЋЌЍЏ", "ўєїіјљњћќѝџ" },
	/* Azerbaijani Cyrillic and Kazakh letters. */
	{ "ҜӘНҸӘ", "ҝәнҹә" },
	{ "ҺӨҮҒЈ", "һөүғј" },
	{ "ҚАЗАҚ ҢҰӨ", "қазақ ңұө" },
	{ "Ӏ", "ӏ" },
	{ NULL, NULL }
};

static const struct fold_case other_case_cases[] = {
	{ "ΣΟΦΙΑ", "σοφια" },
	{ "Σοφία", "σοφία" },
	{ "ΆΈΉΊΌΎΏ", "άέήίόύώ" },
	/* Final sigma: the capitals have only Σ. */
	{ "ΟΔΥΣΣΕΑΣ", "οδυσσεασ" },
	{ "Οδυσσεας", "οδυσσεασ" },
	{ "ԱՐԱՄ", "արամ" },
	{ "Արամ", "արամ" },
	{ "ᲒᲘᲝᲠᲒᲘ", "გიორგი" },
	{ "გიორგი", "გიორგი" },
	{ NULL, NULL }
};

/* Canonical forms: ا U+0627, ي U+064A, ك U+0643. */
static const struct fold_case arabic_cases[] = {
	{ "محمد", "محمد" },
	{ "مُحَمَّد", "محمد" },			/* harakat */
	{ "محـــمد", "محمد" },			/* tatweel */
	{ "مُحـَـمَّد", "محمد" },
	{ "رحمٰن", "رحمن" },			/* superscript alef U+0670 */
	{ "أحمد", "احمد" },
	{ "إبراهيم", "ابراهيم" },
	{ "آمنة", "امنة" },
	{ "ا\u0653منة", "امنة" },		/* alef + madda, decomposed */
	{ "ٱلله", "الله" },
	{ "علي", "علي" },			/* Arabic yeh */
	{ "علی", "علي" },			/* Persian yeh */
	{ "مصطفى", "مصطفي" },			/* alef maksura */
	{ "مصطفی", "مصطفي" },
	{ "كريم", "كريم" },			/* Arabic kaf */
	{ "کریم", "كريم" },			/* Persian keheh and yeh */
	{ "زینب", "زينب" },
	{ "\u0643\u0631\u064a\u0645", "\u0643\u0631\u064a\u0645" },
	{ "\u06a9\u0631\u06cc\u0645", "\u0643\u0631\u064a\u0645" },
	{ "\u0622\u0623\u0625\u0671\u0649\u06cc\u06a9", "\u0627\u0627\u0627\u0627\u064a\u064a\u0643" },
	{ "فاطمه  حسینی", "فاطمه حسيني" },
	{ NULL, NULL }
};

static const struct fold_case whitespace_cases[] = {
	{ " ", "" },
	{ " \t\u00a0 ", "" },
	{ "  Leyla \t\u00a0 Mammadova\t", "leyla mammadova" },
	{ "\u00a0Əli\u00a0Əliyev\u00a0", "əli əliyev" },
	{ "a\t\tb", "a b" },
	/* Dropped marks do not break a run of spaces or leave one behind. */
	{ "a \u0640 b", "a b" },
	{ "\u064e a\u0640 ", "a" },
	{ NULL, NULL }
};

static const struct fold_case passthrough_cases[] = {
	{ "王小明", "王小明" },
	{ "😀 x", "😀 x" },
	{ "\u200c", "\u200c" },		/* ZWNJ, as in Persian names */
	{ "\u00b5", "\u00b5" },
	/* The edges of each UTF-8 length. */
	{ "\xc2\x80", "\xc2\x80" },
	{ "\xdf\xbf", "\xdf\xbf" },
	{ "\xe0\xa0\x80", "\xe0\xa0\x80" },
	{ "\xed\x9f\xbf", "\xed\x9f\xbf" },
	{ "\xee\x80\x80", "\xee\x80\x80" },
	{ "\xef\xbf\xbf", "\xef\xbf\xbf" },
	{ "\xf0\x90\x80\x80", "\xf0\x90\x80\x80" },
	{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },
	{ NULL, NULL }
};

static const struct fold_case invalid_cases[] = {
	{ "\x80", NULL },			/* lone continuation */
	{ "a\x80" "b", NULL },
	{ "\xbf", NULL },
	{ "\xc0\x80", NULL },			/* overlong NUL */
	{ "\xc1\xbf", NULL },			/* overlong DEL */
	{ "\xe0\x80\xaf", NULL },		/* overlong / */
	{ "\xe0\x9f\xbf", NULL },
	{ "\xf0\x82\x82\xac", NULL },		/* overlong euro sign */
	{ "\xf0\x8f\xbf\xbf", NULL },
	{ "\xed\xa0\x80", NULL },		/* surrogate U+D800 */
	{ "\xed\xbf\xbf", NULL },		/* surrogate U+DFFF */
	{ "\xed\xa0\xbd\xed\xb8\x80", NULL },	/* CESU-8 pair */
	{ "\xf4\x90\x80\x80", NULL },		/* U+110000 */
	{ "\xf5\x80\x80\x80", NULL },
	{ "\xf8\x88\x80\x80\x80", NULL },
	{ "\xfe", NULL },
	{ "\xff", NULL },
	{ "\xc3", NULL },			/* truncated */
	{ "Leyla\xc3", NULL },
	{ "\xe2\x82", NULL },
	{ "\xe2\x82" "A", NULL },
	{ "\xf0\x9f\x98", NULL },
	{ "\xc3 ", NULL },
	{ NULL, NULL }
};

static void
fold_ascii(void **state)
{
	(void)state;
	assert_cases(ascii_cases);
}

static void
fold_azerbaijani(void **state)
{
	(void)state;
	assert_cases(azerbaijani_cases);
}

static void
fold_latin(void **state)
{
	(void)state;
	assert_cases(latin_cases);
}

static void
fold_cyrillic(void **state)
{
	(void)state;
	assert_cases(cyrillic_cases);
}

static void
fold_greek_armenian_georgian(void **state)
{
	(void)state;
	assert_cases(other_case_cases);
}

static void
fold_arabic_persian(void **state)
{
	char *a = text_fold("علی", strlen("علی"));
	char *b = text_fold("علي", strlen("علي"));

	(void)state;
	assert_cases(arabic_cases);
	/* The point of it all: both keyboards give the same key. */
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void
fold_whitespace(void **state)
{
	(void)state;
	assert_cases(whitespace_cases);
}

static void
fold_passthrough(void **state)
{
	(void)state;
	assert_cases(passthrough_cases);
}

static void
fold_invalid(void **state)
{
	char *k;

	(void)state;
	assert_cases(invalid_cases);
	/* NUL anywhere, even where the C string would have ended. */
	assert_null(text_fold("\0", 1));
	assert_null(text_fold("a\0b", 3));
	assert_null(text_fold("Leyla \0", 7));
	assert_null(text_fold("  \0  ", 5));
	/* The length counts, not a terminator: a cut sequence is refused... */
	assert_null(text_fold("\xc3\x89", 1));
	/* ...and bytes past len are never read. */
	k = text_fold("ABC\xff", 3);
	assert_non_null(k);
	assert_string_equal(k, "abc");
	free(k);
	k = text_fold(NULL, 0);
	assert_non_null(k);
	assert_string_equal(k, "");
	free(k);
	assert_null(text_fold(NULL, 1));
}

/* fold(fold(x)) == fold(x) over every sample above, each also glued to
 * the others' neighbours that interact (an i before, spaces around). */
static void
fold_idempotent_samples(void **state)
{
	static const struct fold_case *const tables[] = {
		ascii_cases, azerbaijani_cases, latin_cases, cyrillic_cases,
		other_case_cases, arabic_cases, whitespace_cases, passthrough_cases,
		NULL
	};
	static const char *const glue[] = { "", "i", "I", "İ", " ", "\u00a0", "\u0640", "\u0307" };
	const struct fold_case *const *t;
	const struct fold_case *c;
	char buf[256];
	size_t g, h;

	(void)state;
	for (t = tables; *t != NULL; t++)
		for (c = *t; c->in != NULL; c++)
			for (g = 0; g < sizeof(glue) / sizeof(glue[0]); g++)
				for (h = 0; h < sizeof(glue) / sizeof(glue[0]); h++) {
					char *k, *kk;

					snprintf(buf, sizeof(buf), "%s%s%s", glue[g], c->in, glue[h]);
					k = text_fold(buf, strlen(buf));
					assert_non_null(k);
					assert_true(strlen(k) <= strlen(buf));
					kk = text_fold(k, strlen(k));
					if (kk == NULL || strcmp(k, kk) != 0)
						fail_msg("not idempotent: \"%s\" -> \"%s\" -> \"%s\"",
						    buf, k, kk ? kk : "NULL");
					free(kk);
					free(k);
				}
}

/* Writes c as UTF-8 into buf: the length. */
static size_t
encode(uint32_t c, char *buf)
{
	unsigned char *u = (unsigned char *)buf;

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

/* Every scalar value but NUL is accepted, never grows, and folds to a key
 * that folds to itself: this catches a mapping to a letter that maps on. */
static void
fold_idempotent_every_character(void **state)
{
	char buf[4];
	uint32_t c;

	(void)state;
	for (c = 1; c <= 0x10ffff; c++) {
		size_t n;
		char *k, *kk;

		if (c == 0xd800)
			c = 0xe000;
		n = encode(c, buf);
		k = text_fold(buf, n);
		if (k == NULL)
			fail_msg("U+%04X refused", (unsigned)c);
		assert_true(strlen(k) <= n);
		kk = text_fold(k, strlen(k));
		if (kk == NULL || strcmp(k, kk) != 0)
			fail_msg("U+%04X not idempotent", (unsigned)c);
		free(kk);
		free(k);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fold_ascii),
		cmocka_unit_test(fold_azerbaijani),
		cmocka_unit_test(fold_latin),
		cmocka_unit_test(fold_cyrillic),
		cmocka_unit_test(fold_greek_armenian_georgian),
		cmocka_unit_test(fold_arabic_persian),
		cmocka_unit_test(fold_whitespace),
		cmocka_unit_test(fold_passthrough),
		cmocka_unit_test(fold_invalid),
		cmocka_unit_test(fold_idempotent_samples),
		cmocka_unit_test(fold_idempotent_every_character),
	};

	return cmocka_run_group_tests_name("fold", tests, NULL, NULL);
}
