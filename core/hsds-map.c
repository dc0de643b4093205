/*
 * hsds-map.c - an Open Referral HSDS 3.0 dataset to korpu organizations and
 * providers; the rules are in hsds-map.h.
 *
 * Four passes. collect_*() flattens whatever shape came in into one table
 * of rows per HSDS table; a row points into the dataset and is never a
 * copy. check_*() looks at each row once, in table order, links it to the
 * rows it names (through a hash of ids per table) and reports it if it
 * cannot be used. map_providers() then builds one provider per
 * service_at_location, and map_organizations() the organizations. Every
 * loop runs in input order, so output and report are deterministic.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsds-map.h"

enum table { T_ORG, T_SVC, T_LOC, T_SAL, T_SCH, T_ADR, T_LNG, T_ATR, T_TRM, T_COUNT,
	T_REC = T_COUNT };

/* Names as in the HSDS 3.0 tabular datapackage; used in the report.
 * "records": an element of a list of records that is none we import. */
static const char *const table_name[T_COUNT + 1] = {
	"organizations", "services", "locations", "service_at_location", "schedules",
	"addresses", "languages", "attributes", "taxonomy_terms", "records"
};

enum link { L_ORG, L_SVC, L_LOC, L_SAL, L_ATTR, L_TERM, L_COUNT };
static const char *const link_field[L_COUNT] = {
	"organization_id", "service_id", "location_id", "service_at_location_id",
	"link_id", "taxonomy_term_id"
};
#define BIT(l)	(1u << (l))
/* The links each table may name. */
static const unsigned table_links[T_COUNT] = {
	[T_SVC] = BIT(L_ORG),
	[T_LOC] = BIT(L_ORG),
	[T_SAL] = BIT(L_SVC) | BIT(L_LOC),
	[T_SCH] = BIT(L_SVC) | BIT(L_LOC) | BIT(L_SAL),
	[T_ADR] = BIT(L_LOC),
	[T_LNG] = BIT(L_SVC) | BIT(L_LOC),
	[T_ATR] = BIT(L_ATTR) | BIT(L_TERM),
};

/* Records nested in records: the parent's id becomes the child's link
 * (arrays), or the child's id the parent's link (objects). */
static const struct child {
	enum table parent;
	const char *key;
	enum table table;
	int object;
	enum link link;
} children[] = {
	{ T_ORG, "locations", T_LOC, 0, L_ORG },	/* first, as in HSDS's examples */
	{ T_ORG, "services", T_SVC, 0, L_ORG },
	{ T_SVC, "organization", T_ORG, 1, L_ORG },
	{ T_SVC, "service_at_locations", T_SAL, 0, L_SVC },
	{ T_SVC, "schedules", T_SCH, 0, L_SVC },
	{ T_SVC, "languages", T_LNG, 0, L_SVC },
	{ T_SVC, "attributes", T_ATR, 0, L_ATTR },
	{ T_LOC, "addresses", T_ADR, 0, L_LOC },
	{ T_LOC, "physical_addresses", T_ADR, 0, L_LOC },
	{ T_LOC, "schedules", T_SCH, 0, L_LOC },
	{ T_LOC, "languages", T_LNG, 0, L_LOC },
	{ T_SAL, "service", T_SVC, 1, L_SVC },
	{ T_SAL, "location", T_LOC, 1, L_LOC },
	{ T_SAL, "schedules", T_SCH, 0, L_SAL },
	{ T_SAL, "attributes", T_ATR, 0, L_ATTR },
};

/* Top-level tables of the tabular shape, each also with ".csv". */
static const struct {
	enum table table;
	const char *key;
	int main;		/* one of these makes an object a dataset */
} tabular[] = {
	{ T_ORG, "organizations", 1 },
	{ T_SVC, "services", 1 },
	{ T_LOC, "locations", 0 },
	{ T_SAL, "service_at_locations", 1 },
	{ T_SAL, "service_at_location", 1 },
	{ T_SCH, "schedules", 0 },
	{ T_ADR, "addresses", 0 },
	{ T_ADR, "physical_addresses", 0 },
	{ T_LNG, "languages", 0 },
	{ T_ATR, "attributes", 0 },
	{ T_TRM, "taxonomy_terms", 0 },
};

/* What an attribute's link_id names. */
enum { ENT_ANY, ENT_SVC, ENT_SAL, ENT_OTHER };

static const char *const day_name[7] = { "mo", "tu", "we", "th", "fr", "sa", "su" };

#define NONE	((size_t)-1)

struct ivec {
	size_t *v;
	size_t n, cap;
};

/* A weekly opening rule: days is a bit per day_name[], times in minutes. */
struct rule {
	unsigned days;
	int open, close;
};

struct row {
	const json_t *obj;
	const char *id;
	const char *link[L_COUNT];
	const json_t *term;	/* attribute: its nested taxonomy_term */
	int entity;		/* attribute: ENT_* */
	int nested;		/* found inside another record */
	int bad;		/* reported by a check: not to be used */
	char *text;		/* organization, service, location: the clean name;
				 * address: the joined address */
	const char *kind;	/* organization */
	const char *region;	/* organization: its first provider's */
	char code[4];		/* language */
	struct rule rule;	/* schedule */
	struct ivec sch, lng, adr, atr, sal, loc;	/* rows linked to this one */
};

struct tab {
	struct row *v;
	size_t n, cap;
	size_t *slot;		/* hash of ids: row index + 1, 0 free */
	size_t nslot;
};

struct map {
	const struct hsds_options *opt;
	struct tab t[T_COUNT];
	json_t *orgs, *providers, *skipped, *warnings;
	int oom;
};

/* ---- text */

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Length of the longest prefix of s[0..len) that is well-formed UTF-8
 * (no overlongs, surrogates, or code points above U+10FFFF). */
static size_t
utf8_valid_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i], cp, min;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return i;
}

/* s trimmed of white space at both ends: *len updated, start returned. */
static const char *
trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

enum { TXT_OK, TXT_EMPTY, TXT_LONG, TXT_CTRL, TXT_UTF8 };

/* Copies s[0..len) trimmed into dst (room for max + 1) with tab, CR and LF
 * as spaces; anything else that could not be shown as is, is refused. */
static int
text_clean(const char *s, size_t len, size_t max, char *dst, size_t *outlen)
{
	size_t i;

	if (utf8_valid_len(s, len) != len)
		return TXT_UTF8;
	s = trim(s, &len);
	if (len == 0)
		return TXT_EMPTY;
	if (len > max)
		return TXT_LONG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		else if (c < 0x20 || c == 0x7f)
			return TXT_CTRL;
		else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return TXT_CTRL;	/* C1 controls, U+0080..U+009F */
		dst[i] = (char)c;
	}
	dst[len] = '\0';
	*outlen = len;
	return TXT_OK;
}

static const char *
text_problem(int p)
{
	switch (p) {
	case TXT_EMPTY:
		return "is empty";
	case TXT_LONG:
		return "is too long";
	case TXT_CTRL:
		return "contains control characters";
	default:
		return "is not valid UTF-8";
	}
}

/* At most 40 bytes of s, whole characters, controls as '?': for quoting
 * the dataset's values in a reason. */
static const char *
snip(const char *s, size_t len, char *buf, size_t cap)
{
	size_t n = len < cap - 1 ? len : cap - 1, i;

	if (n > 40)
		n = 40;
	n = utf8_valid_len(s, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[n] = '\0';
	return buf;
}

/* Does s[0..len), trimmed, equal word, ignoring ASCII case? */
static int
same_word(const char *s, size_t len, const char *word)
{
	size_t i;

	s = trim(s, &len);
	if (len != strlen(word))
		return 0;
	for (i = 0; i < len; i++)
		if (lower((unsigned char)s[i]) != lower((unsigned char)word[i]))
			return 0;
	return 1;
}

/* Does lower-case hay contain phrase as whole words? */
static int
has_words(const char *hay, const char *phrase)
{
	size_t n = strlen(phrase);
	const char *p = hay;

	while ((p = strstr(p, phrase)) != NULL) {
		int before = p == hay || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9'));
		char a = p[n];
		int after = !((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9'));

		if (before && after)
			return 1;
		p++;
	}
	return 0;
}

/* ---- JSON fields */

/* A string member: 1 with s/len, 0 when missing, null or "", -1 when of
 * another type. */
static int
str_field(const json_t *o, const char *key, const char **s, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*s = json_string_value(v);
	*len = json_string_length(v);
	return *len == 0 ? 0 : 1;
}

/* A whole number member (integer, integral real or digits in a string):
 * 1 with *out, 0 when missing, null or "", -1 otherwise. */
static int
num_field(const json_t *o, const char *key, long long *out)
{
	const json_t *v = json_object_get(o, key);
	const char *s;
	size_t len, i;
	long long n = 0;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d != d || d < -1e15 || d > 1e15 || d != (double)(long long)d)
			return -1;
		*out = (long long)d;
		return 1;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	s = trim(s, &len);
	if (len == 0)
		return 0;
	if (len > 15)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	*out = n;
	return 1;
}

/* An id or link: 1 with *id, 0 when missing, null or "", -1 with *why. */
static int
id_check(const json_t *v, const char **id, const char **why)
{
	const char *s;
	size_t len, i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		*why = "is not a string";
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return 0;
	if (len > HSDS_ID_MAX) {
		*why = "is longer than " "128" " bytes";
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			*why = "contains control characters";
			return -1;
		}
	if (utf8_valid_len(s, len) != len) {
		*why = "is not valid UTF-8";
		return -1;
	}
	*id = s;
	return 1;
}

/* ---- dates and times */

static int
days_in_month(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD..." or "YYYYMMDD..." (a time may follow after T or a space)
 * into out as "YYYYMMDD"; 0 or -1. */
static int
parse_date(const char *s, size_t len, char out[9], int *y, int *m, int *d)
{
	size_t end;

	s = trim(s, &len);
	if (len >= 10 && s[4] == '-' && s[7] == '-') {
		*y = digits(s, 4);
		*m = digits(s + 5, 2);
		*d = digits(s + 8, 2);
		end = 10;
	} else if (len >= 8) {
		*y = digits(s, 4);
		*m = digits(s + 4, 2);
		*d = digits(s + 6, 2);
		end = 8;
	} else {
		return -1;
	}
	if (len > end && s[end] != 'T' && s[end] != 't' && s[end] != ' ')
		return -1;
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -1;
	out[0] = (char)('0' + *y / 1000);
	out[1] = (char)('0' + *y / 100 % 10);
	out[2] = (char)('0' + *y / 10 % 10);
	out[3] = (char)('0' + *y % 10);
	out[4] = (char)('0' + *m / 10);
	out[5] = (char)('0' + *m % 10);
	out[6] = (char)('0' + *d / 10);
	out[7] = (char)('0' + *d % 10);
	out[8] = '\0';
	return 0;
}

/* 0 = Monday .. 6 = Sunday (Sakamoto). */
static int
weekday(int y, int m, int d)
{
	static const int t[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y--;
	return ((y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7 + 6) % 7;
}

/* H:MM or HH:MM, optional :SS and .fraction, optional zone (Z, +HH, +HHMM,
 * +HH:MM, perhaps after one space): minutes since midnight (24:00 is
 * 1440), or -1. */
static int
parse_time(const char *s, size_t len)
{
	size_t i = 0, h;
	int hh, mm;

	s = trim(s, &len);
	for (h = 0; h < len && h < 3 && s[h] >= '0' && s[h] <= '9'; h++)
		;
	if (h < 1 || h > 2 || h + 3 > len || s[h] != ':')
		return -1;
	hh = digits(s, h);
	mm = digits(s + h + 1, 2);
	if (hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0))
		return -1;
	i = h + 3;
	if (i < len && s[i] == ':') {
		int ss = i + 3 <= len ? digits(s + i + 1, 2) : -1;
		if (ss < 0 || ss > 60 || (hh == 24 && ss != 0))
			return -1;
		i += 3;
		if (i < len && s[i] == '.') {
			size_t f = ++i;
			while (i < len && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i == f)
				return -1;
		}
	}
	if (i < len && s[i] == ' ')
		i++;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int zh = i + 3 <= len ? digits(s + i + 1, 2) : -1, zm = 0;
		if (zh < 0 || zh > 23)
			return -1;
		i += 3;
		if (i < len && s[i] == ':') {
			i++;
			if (i == len)
				return -1;
		}
		if (i < len) {
			zm = i + 2 <= len ? digits(s + i, 2) : -1;
			if (zm < 0 || zm > 59)
				return -1;
			i += 2;
		}
	}
	return i == len ? hh * 60 + mm : -1;
}

/* ---- vectors, tables, report */

static int
ivec_push(struct ivec *v, size_t x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		size_t *p = realloc(v->v, cap * sizeof *p);
		if (p == NULL)
			return -1;
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

static uint32_t
hash_id(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static size_t
tab_find(const struct tab *t, const char *id)
{
	size_t i;

	if (t->nslot == 0 || id == NULL)
		return NONE;
	for (i = hash_id(id) & (t->nslot - 1); t->slot[i] != 0; i = (i + 1) & (t->nslot - 1))
		if (strcmp(t->v[t->slot[i] - 1].id, id) == 0)
			return t->slot[i] - 1;
	return NONE;
}

static void
tab_slot(struct tab *t, size_t k)
{
	size_t i = hash_id(t->v[k].id) & (t->nslot - 1);

	while (t->slot[i] != 0)
		i = (i + 1) & (t->nslot - 1);
	t->slot[i] = k + 1;
}

/* Appends r (its id not in t yet); its index, or NONE out of memory. */
static size_t
tab_add(struct tab *t, const struct row *r)
{
	size_t k;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct row *v = realloc(t->v, cap * sizeof *v);
		if (v == NULL)
			return NONE;
		t->v = v;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->nslot) {
		size_t nslot = t->nslot ? t->nslot * 2 : 32;
		size_t *slot = calloc(nslot, sizeof *slot);
		if (slot == NULL)
			return NONE;
		free(t->slot);
		t->slot = slot;
		t->nslot = nslot;
		for (k = 0; k < t->n; k++)
			tab_slot(t, k);
	}
	t->v[t->n] = *r;
	tab_slot(t, t->n);
	return t->n++;
}

static struct row *
find(struct map *m, enum table t, const char *id)
{
	size_t k = tab_find(&m->t[t], id);

	return k == NONE ? NULL : &m->t[t].v[k];
}

static void
put(struct map *m, json_t *o, const char *key, json_t *v)
{
	if (json_object_set_new(o, key, v) != 0)
		m->oom = 1;
}

static void
append(struct map *m, json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) != 0)
		m->oom = 1;
}

/* Adds {"table","id","reason"} to list (skipped or warnings). */
static void __attribute__((format(printf, 5, 6)))
report(struct map *m, json_t *list, enum table t, const char *id, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	json_t *e;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	buf[utf8_valid_len(buf, strlen(buf))] = '\0';	/* if cut mid-character */
	e = json_object();
	if (e == NULL) {
		m->oom = 1;
		return;
	}
	put(m, e, "table", json_string(table_name[t]));
	put(m, e, "id", id ? json_string(id) : json_null());
	put(m, e, "reason", json_string(buf));
	append(m, list, e);
}

/* ---- pass 1: collect */

/* What a record on its own is: T_SAL, T_SVC, T_LOC, T_ORG, or -1 for
 * anything else HSDS serves (a taxonomy, a term, an attribute, ...). */
static int
record_kind(const json_t *o)
{
	static const char *const other[] = { "taxonomy_id", "taxonomy", "taxonomy_detail",
	    "term_uri", "parent_id", "code", "version", "link_entity", "link_type",
	    "resource_type", "opens_at", "closes_at", "freq" };
	size_t i;

	if (json_is_object(json_object_get(o, "service")) ||
	    json_is_object(json_object_get(o, "location")))
		return T_SAL;
	if (json_is_object(json_object_get(o, "organization")) ||
	    json_object_get(o, "status") != NULL ||
	    json_object_get(o, "service_at_locations") != NULL)
		return T_SVC;
	if (json_object_get(o, "location_type") != NULL)
		return T_LOC;
	for (i = 0; i < sizeof other / sizeof other[0]; i++)
		if (json_object_get(o, other[i]) != NULL)
			return -1;
	return T_ORG;
}

/*
 * Adds obj to table t, with the links ctx gives for those it does not name
 * itself, then its nested records. Returns the id its parent should link
 * to (also that of a repeat of an earlier row), or NULL when it has none.
 * where says where obj is in the document, for rows without an id.
 */
static const char *
collect(struct map *m, enum table t, const json_t *obj, const char *const *ctx, int entity,
    int nested, int depth, const char *where)
{
	struct row r;
	const char *why = NULL;
	size_t i, k, c;
	int rc, l, own_link = 0;

	if (m->oom)
		return NULL;
	if (depth > HSDS_DEPTH_MAX) {
		report(m, m->skipped, t, NULL, "%s: records nested more than %d deep", where,
		    HSDS_DEPTH_MAX);
		return NULL;
	}
	if (!json_is_object(obj)) {
		report(m, m->skipped, t, NULL, "%s: not an object", where);
		return NULL;
	}
	memset(&r, 0, sizeof r);
	r.obj = obj;
	r.nested = nested;
	r.entity = ENT_ANY;
	rc = id_check(json_object_get(obj, "id"), &r.id, &why);
	if (rc <= 0) {
		report(m, m->skipped, t, NULL, "%s: id %s", where, rc == 0 ? "missing" : why);
		return NULL;
	}
	for (l = 0; l < L_COUNT; l++) {
		if (!(table_links[t] & BIT(l)))
			continue;
		rc = id_check(json_object_get(obj, link_field[l]), &r.link[l], &why);
		if (rc < 0) {
			report(m, m->skipped, t, r.id, "%s %s", link_field[l], why);
			return NULL;
		}
		if (rc > 0 && l == L_ATTR)
			own_link = 1;
		if (rc == 0 && ctx != NULL)
			r.link[l] = ctx[l];
	}
	if (t == T_ATR) {
		const char *s;
		size_t len;

		/* link_entity says what an attribute's own link_id names; one
		 * nested in a record links to that record. */
		if (own_link) {
			rc = str_field(obj, "link_entity", &s, &len);
			if (rc == 0)
				r.entity = ENT_ANY;
			else if (rc > 0 && (same_word(s, len, "service") || same_word(s, len, "services")))
				r.entity = ENT_SVC;
			else if (rc > 0 && (same_word(s, len, "service_at_location") ||
			    same_word(s, len, "service_at_locations")))
				r.entity = ENT_SAL;
			else
				r.entity = ENT_OTHER;
		} else {
			r.entity = entity;
		}
		if (json_is_object(json_object_get(obj, "taxonomy_term")))
			r.term = json_object_get(obj, "taxonomy_term");
	}

	k = tab_find(&m->t[t], r.id);
	if (k != NONE) {
		struct row *e = &m->t[t].v[k];
		int clash = 0;

		if ((nested || e->nested) && (e->obj == obj || json_equal(e->obj, obj))) {
			for (l = 0; l < L_COUNT; l++)
				if (r.link[l] && e->link[l] && strcmp(r.link[l], e->link[l]) != 0)
					clash = 1;
			if (!clash) {
				for (l = 0; l < L_COUNT; l++)
					if (e->link[l] == NULL)
						e->link[l] = r.link[l];
				return e->id;
			}
			report(m, m->skipped, t, r.id, "%s: the same record under another parent"
			    " (duplicate id); the first is used", where);
			return e->id;
		}
		report(m, m->skipped, t, r.id, "%s: duplicate id; the first row with it is used",
		    where);
		return e->id;
	}
	if ((k = tab_add(&m->t[t], &r)) == NONE) {
		m->oom = 1;
		return NULL;
	}

	for (c = 0; c < sizeof children / sizeof children[0]; c++) {
		const struct child *ch = &children[c];
		const json_t *v;
		char path[256];

		if (ch->parent != t)
			continue;
		v = json_object_get(obj, ch->key);
		if (v == NULL || json_is_null(v))
			continue;
		if (ch->object) {
			const char *cid;

			snprintf(path, sizeof path, "%s.%s", where, ch->key);
			if (!json_is_object(v)) {
				report(m, m->skipped, ch->table, NULL, "%s: not an object", path);
				continue;
			}
			cid = collect(m, ch->table, v, NULL, ENT_ANY, 1, depth + 1, path);
			if (cid != NULL && m->t[t].v[k].link[ch->link] == NULL)
				m->t[t].v[k].link[ch->link] = cid;
		} else {
			const char *cctx[L_COUNT] = { NULL };

			if (!json_is_array(v)) {
				snprintf(path, sizeof path, "%s.%s", where, ch->key);
				report(m, m->skipped, ch->table, NULL, "%s: not an array", path);
				continue;
			}
			cctx[ch->link] = r.id;
			for (i = 0; i < json_array_size(v); i++) {
				snprintf(path, sizeof path, "%s.%s[%zu]", where, ch->key, i);
				collect(m, ch->table, json_array_get(v, i), cctx,
				    t == T_SVC ? ENT_SVC : t == T_SAL ? ENT_SAL : ENT_ANY,
				    1, depth + 1, path);
			}
		}
	}
	return r.id;
}

/* A list of records of any kind: -1 if it holds no object at all. */
static int
collect_records(struct map *m, const json_t *a, const char *name, char *err, size_t errlen)
{
	size_t i, objects = 0;
	char path[64];
	int t;

	for (i = 0; i < json_array_size(a); i++)
		if (json_is_object(json_array_get(a, i)))
			objects++;
	if (objects == 0) {
		snprintf(err, errlen, "not an HSDS dataset: %s holds no records",
		    *name ? name : "the array");
		return -1;
	}
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *v = json_array_get(a, i);

		snprintf(path, sizeof path, "%s[%zu]", name, i);
		if (!json_is_object(v))
			report(m, m->skipped, T_REC, NULL, "%s: not an object", path);
		else if ((t = record_kind(v)) < 0)
			report(m, m->skipped, T_REC, NULL, "%s: not an organization, service, location"
			    " or service_at_location", path);
		else
			collect(m, t, v, NULL, ENT_ANY, 0, 1, path);
	}
	return 0;
}

static int
collect_document(struct map *m, const json_t *doc, char *err, size_t errlen)
{
	const json_t *v;
	static const char *const record_name[] = { [T_ORG] = "organization",
	    [T_SVC] = "service", [T_LOC] = "location", [T_SAL] = "service_at_location" };
	size_t i, j, s;
	int found = 0;
	char key[64], path[96];

	if (json_is_array(doc))
		return collect_records(m, doc, "", err, errlen);
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "not an HSDS dataset: a JSON object or array is expected");
		return -1;
	}
	v = json_object_get(doc, "id");
	if (v != NULL && !json_is_null(v)) {
		int t = record_kind(doc);

		if (t < 0) {
			snprintf(err, errlen, "not an HSDS dataset: a record, but not an organization,"
			    " service, location or service_at_location");
			return -1;
		}
		collect(m, t, doc, NULL, ENT_ANY, 0, 1, record_name[t]);
		return 0;
	}
	for (i = 0; i < sizeof tabular / sizeof tabular[0]; i++)
		for (s = 0; s < 2; s++) {
			snprintf(key, sizeof key, "%s%s", tabular[i].key, s ? ".csv" : "");
			if (tabular[i].main && json_object_get(doc, key) != NULL)
				found = 1;
		}
	if (!found) {
		v = json_object_get(doc, "contents");
		if (json_is_array(v))
			return collect_records(m, v, "contents", err, errlen);
		snprintf(err, errlen, "not an HSDS dataset: no organizations, services or"
		    " service_at_locations, and not a record");
		return -1;
	}
	for (i = 0; i < sizeof tabular / sizeof tabular[0]; i++)
		for (s = 0; s < 2; s++) {
			snprintf(key, sizeof key, "%s%s", tabular[i].key, s ? ".csv" : "");
			v = json_object_get(doc, key);
			if (v == NULL || json_is_null(v))
				continue;
			if (!json_is_array(v)) {
				report(m, m->skipped, tabular[i].table, NULL, "%s: not an array", key);
				continue;
			}
			for (j = 0; j < json_array_size(v); j++) {
				snprintf(path, sizeof path, "%s[%zu]", key, j);
				collect(m, tabular[i].table, json_array_get(v, j), NULL, ENT_ANY, 0, 1,
				    path);
			}
		}
	return 0;
}

/* ---- pass 2: check and link each row */

/* A required, clean name into r->text; 0, or -1 reported. */
static int
check_name(struct map *m, enum table t, struct row *r, int required)
{
	char buf[HSDS_NAME_MAX + 1];
	const char *s;
	size_t len, n;
	int rc = str_field(r->obj, "name", &s, &len), p;

	if (rc == 0 && !required)
		return 0;
	if (rc <= 0) {
		report(m, m->skipped, t, r->id, rc == 0 ? "no name" : "name is not a string");
		return -1;
	}
	if ((p = text_clean(s, len, HSDS_NAME_MAX, buf, &n)) != TXT_OK) {
		if (p == TXT_LONG)
			report(m, m->skipped, t, r->id, "name is longer than %d bytes", HSDS_NAME_MAX);
		else
			report(m, m->skipped, t, r->id, "name %s", text_problem(p));
		return -1;
	}
	if ((r->text = strdup(buf)) == NULL)
		m->oom = 1;
	return 0;
}

static const char *
guess_kind(const json_t *o)
{
	static const char *const ngo[] = { "non-profit", "nonprofit", "not-for-profit",
	    "non-governmental", "nongovernmental", "ngo", "charity", "charitable",
	    "association", "foundation", NULL };
	static const char *const agency[] = { "agency", NULL };
	static const char *const gov[] = { "government", "governmental", "ministry",
	    "municipal", "municipality", "public body", "public authority",
	    "local authority", "state body", NULL };
	static const struct {
		const char *const *words;
		const char *kind;
	} kinds[] = { { ngo, "ngo" }, { agency, "agency" }, { gov, "government" } };
	static const char *const fields[] = { "legal_status", "tax_status" };
	const char *s;
	size_t len, f, k, w, i;

	if (str_field(o, "kind", &s, &len) > 0)
		for (k = 0; k < 3; k++)
			if (same_word(s, len, kinds[k].kind))
				return kinds[k].kind;
	for (f = 0; f < 2; f++) {
		char hay[HSDS_NAME_MAX + 1];

		if (str_field(o, fields[f], &s, &len) <= 0)
			continue;
		if (len > HSDS_NAME_MAX)
			len = HSDS_NAME_MAX;
		for (i = 0; i < len; i++)
			hay[i] = s[i] == '\0' ? ' ' : (char)lower((unsigned char)s[i]);
		hay[len] = '\0';
		for (k = 0; k < 3; k++)
			for (w = 0; kinds[k].words[w] != NULL; w++)
				if (has_words(hay, kinds[k].words[w]))
					return kinds[k].kind;
	}
	return "ngo";
}

static void
check_organizations(struct map *m)
{
	struct tab *t = &m->t[T_ORG];
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct row *r = &t->v[i];

		if (check_name(m, T_ORG, r, 1) != 0)
			r->bad = 1;
		else
			r->kind = guess_kind(r->obj);
	}
}

/* Locations to their organization: for services without a
 * service_at_location and for an organization's region. */
static void
link_locations(struct map *m)
{
	struct tab *t = &m->t[T_LOC];
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct row *o = find(m, T_ORG, t->v[i].link[L_ORG]);

		if (o != NULL && ivec_push(&o->loc, i) != 0)
			m->oom = 1;
	}
}

static void
check_services(struct map *m)
{
	struct tab *t = &m->t[T_SVC];
	char q[64];
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct row *r = &t->v[i], *o;
		const char *s;
		size_t len;
		int rc;

		if (check_name(m, T_SVC, r, 1) != 0) {
			r->bad = 1;
			continue;
		}
		rc = str_field(r->obj, "status", &s, &len);
		if (rc < 0) {
			report(m, m->skipped, T_SVC, r->id, "status is not a string");
			r->bad = 1;
			continue;
		}
		if (rc > 0 && (same_word(s, len, "inactive") || same_word(s, len, "defunct"))) {
			report(m, m->skipped, T_SVC, r->id, "status is %s", snip(s, len, q, sizeof q));
			r->bad = 1;
			continue;
		}
		if (r->link[L_ORG] == NULL) {
			report(m, m->skipped, T_SVC, r->id, "no organization_id");
			r->bad = 1;
		} else if ((o = find(m, T_ORG, r->link[L_ORG])) == NULL) {
			report(m, m->skipped, T_SVC, r->id, "organization %s not found", r->link[L_ORG]);
			r->bad = 1;
		} else if (o->bad) {
			report(m, m->skipped, T_SVC, r->id, "organization %s was skipped", o->id);
			r->bad = 1;
		}
	}
}

static void
check_locations(struct map *m)
{
	struct tab *t = &m->t[T_LOC];
	size_t i;

	for (i = 0; i < t->n; i++)
		if (check_name(m, T_LOC, &t->v[i], 0) != 0)
			t->v[i].bad = 1;
}

/* service_at_location rows to their service, to tell services without. */
static void
link_sals(struct map *m)
{
	struct tab *t = &m->t[T_SAL];
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct row *s = find(m, T_SVC, t->v[i].link[L_SVC]);

		if (s != NULL && ivec_push(&s->sal, i) != 0)
			m->oom = 1;
	}
}

/* byday into a mask of days; 0 or -1 with why. */
static int
parse_byday(const char *s, size_t len, unsigned *days, char *why, size_t whylen)
{
	size_t i = 0, d;
	char q[64];

	*days = 0;
	while (i < len) {
		size_t start = i, n;
		const char *tok;

		while (i < len && s[i] != ',')
			i++;
		n = i - start;
		tok = trim(s + start, &n);
		i++;
		if (n == 0)
			continue;
		for (d = 0; d < 7; d++)
			if (n == 2 && lower((unsigned char)tok[0]) == day_name[d][0] &&
			    lower((unsigned char)tok[1]) == day_name[d][1])
				break;
		if (d < 7) {
			*days |= 1u << d;
		} else if ((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '+' || tok[0] == '-') {
			snprintf(why, whylen, "byday %s names a day's position in the month",
			    snip(tok, n, q, sizeof q));
			return -1;
		} else {
			snprintf(why, whylen, "byday has an unknown day '%s'", snip(tok, n, q, sizeof q));
			return -1;
		}
	}
	if (*days == 0) {
		snprintf(why, whylen, "byday names no day");
		return -1;
	}
	return 0;
}

/* Checks one date field against today: 0 fine, -1 with why. */
static int
check_date(const struct map *m, const json_t *o, const char *key, int upper, char *why,
    size_t whylen)
{
	const char *s;
	size_t len;
	char d[9], q[64];
	int rc = str_field(o, key, &s, &len), y, mo, da;

	if (m->opt->today == NULL || rc == 0)
		return 0;
	if (rc < 0 || parse_date(s, len, d, &y, &mo, &da) != 0) {
		snprintf(why, whylen, "%s %s is not a date", key,
		    rc < 0 ? "(not a string)" : snip(s, len, q, sizeof q));
		return -1;
	}
	{
		char today[9];
		int ty, tm, td;

		parse_date(m->opt->today, strlen(m->opt->today), today, &ty, &tm, &td);
		if (upper && strcmp(d, today) < 0) {
			snprintf(why, whylen, "expired: %s is %.4s-%.2s-%.2s", key, d, d + 4, d + 6);
			return -1;
		}
		if (!upper && strcmp(d, today) > 0) {
			snprintf(why, whylen, "not valid yet: %s is %.4s-%.2s-%.2s", key, d, d + 4, d + 6);
			return -1;
		}
	}
	return 0;
}

/* One schedule row into a rule: 0, or -1 with why. */
static int
parse_schedule(const struct map *m, const json_t *o, struct rule *r, char *why, size_t whylen)
{
	static const char *const unsupported[] = { "count", "bymonthday", "byyearday", "byweekno" };
	static const char *const dates[] = { "valid_from", "dtstart", "valid_to", "until" };
	const char *s;
	size_t len, i;
	char q[64], q2[64];
	long long n;
	int rc, daily = 0;
	const char *os, *cs;
	size_t olen, clen;

	rc = str_field(o, "freq", &s, &len);
	if (rc < 0) {
		snprintf(why, whylen, "freq is not a string");
		return -1;
	}
	if (rc > 0 && same_word(s, len, "DAILY")) {
		daily = 1;
	} else if (rc > 0 && !same_word(s, len, "WEEKLY")) {
		snprintf(why, whylen, "freq %s cannot be expressed as weekly hours",
		    snip(s, len, q, sizeof q));
		return -1;
	}
	rc = num_field(o, "interval", &n);
	if (rc < 0) {
		snprintf(why, whylen, "interval is not a number");
		return -1;
	}
	if (rc > 0 && n != 1) {
		snprintf(why, whylen, "interval %lld: only a rule repeating every %s can be expressed",
		    n, daily ? "day" : "week");
		return -1;
	}
	for (i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
		const json_t *v = json_object_get(o, unsupported[i]);

		if (v != NULL && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0)) {
			snprintf(why, whylen, "%s cannot be expressed as weekly hours", unsupported[i]);
			return -1;
		}
	}
	rc = str_field(o, "byday", &s, &len);
	if (rc < 0) {
		snprintf(why, whylen, "byday is not a string");
		return -1;
	}
	if (rc > 0) {
		if (parse_byday(s, len, &r->days, why, whylen) != 0)
			return -1;
	} else if (daily) {
		r->days = 0x7f;
	} else {
		char d[9];
		int y, mo, da;

		if (str_field(o, "dtstart", &s, &len) <= 0 || parse_date(s, len, d, &y, &mo, &da) != 0) {
			snprintf(why, whylen, "no byday, and no dtstart to take the day from");
			return -1;
		}
		r->days = 1u << weekday(y, mo, da);
	}
	if ((rc = str_field(o, "opens_at", &os, &olen)) <= 0) {
		snprintf(why, whylen, rc == 0 ? "no opens_at" : "opens_at is not a string");
		return -1;
	}
	if ((rc = str_field(o, "closes_at", &cs, &clen)) <= 0) {
		snprintf(why, whylen, rc == 0 ? "no closes_at" : "closes_at is not a string");
		return -1;
	}
	if ((r->open = parse_time(os, olen)) < 0) {
		snprintf(why, whylen, "opens_at '%s' is not a time", snip(os, olen, q, sizeof q));
		return -1;
	}
	if ((r->close = parse_time(cs, clen)) < 0) {
		snprintf(why, whylen, "closes_at '%s' is not a time", snip(cs, clen, q, sizeof q));
		return -1;
	}
	if (r->open == 24 * 60) {
		snprintf(why, whylen, "opens_at 24:00 is the end of the day");
		return -1;
	}
	if (r->close == 0 && r->open > 0)
		r->close = 24 * 60;	/* closes at midnight */
	if (r->close <= r->open) {
		snprintf(why, whylen, "closes_at %s is not after opens_at %s (a window across"
		    " midnight cannot be expressed)", snip(cs, clen, q, sizeof q),
		    snip(os, olen, q2, sizeof q2));
		return -1;
	}
	if (r->close - r->open < m->opt->slot_minutes) {
		snprintf(why, whylen, "open %d minutes, less than one slot (%d minutes)",
		    r->close - r->open, m->opt->slot_minutes);
		return -1;
	}
	for (i = 0; i < 4; i++)
		if (check_date(m, o, dates[i], i >= 2, why, whylen) != 0)
			return -1;
	return 0;
}

static void
check_schedules(struct map *m)
{
	struct tab *t = &m->t[T_SCH];
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct row *r = &t->v[i], *to = NULL;
		char why[400];
		int l;

		/* The most specific link named is the one that counts. */
		for (l = L_SAL; l >= L_SVC; l--) {
			static const enum table owner[] = { [L_SVC] = T_SVC, [L_LOC] = T_LOC,
			    [L_SAL] = T_SAL };

			if (r->link[l] == NULL)
				continue;
			if ((to = find(m, owner[l], r->link[l])) == NULL) {
				report(m, m->skipped, T_SCH, r->id, "%s %s not found",
				    table_name[owner[l]], r->link[l]);
				r->bad = 1;
			}
			break;
		}
		if (r->bad)
			continue;
		if (to == NULL) {
			report(m, m->skipped, T_SCH, r->id,
			    "not linked to a service, location or service_at_location");
			r->bad = 1;
			continue;
		}
		if (ivec_push(&to->sch, i) != 0)
			m->oom = 1;
		if (parse_schedule(m, r->obj, &r->rule, why, sizeof why) != 0) {
			report(m, m->skipped, T_SCH, r->id, "%s", why);
			r->bad = 1;
		}
	}
}

static void
check_addresses(struct map *m)
{
	static const char *const parts[] = { "address_1", "address_2", "city" };
	static const char *const strings[] = { "address_1", "address_2", "city", "region",
	    "state_province", "address_type" };
	struct tab *t = &m->t[T_ADR];
	size_t i, p, len, n;

	for (i = 0; i < t->n; i++) {
		struct row *r = &t->v[i], *loc;
		char buf[HSDS_ADDRESS_MAX + 1], part[HSDS_ADDRESS_MAX + 1];
		const char *s;
		size_t used = 0;
		int rc;

		if (r->link[L_LOC] == NULL) {
			report(m, m->skipped, T_ADR, r->id, "no location_id");
			continue;
		}
		if ((loc = find(m, T_LOC, r->link[L_LOC])) == NULL) {
			report(m, m->skipped, T_ADR, r->id, "location %s not found", r->link[L_LOC]);
			continue;
		}
		for (p = 0; p < sizeof strings / sizeof strings[0]; p++)
			if (str_field(r->obj, strings[p], &s, &len) < 0)
				break;
		if (p < sizeof strings / sizeof strings[0]) {
			report(m, m->skipped, T_ADR, r->id, "%s is not a string", strings[p]);
			continue;
		}
		buf[0] = '\0';
		for (p = 0; p < 3; p++) {
			if (str_field(r->obj, parts[p], &s, &len) <= 0)
				continue;
			rc = text_clean(s, len, HSDS_ADDRESS_MAX, part, &n);
			if (rc == TXT_EMPTY)
				continue;
			if (rc != TXT_OK || used + (used ? 2 : 0) + n > HSDS_ADDRESS_MAX) {
				if (rc == TXT_OK || rc == TXT_LONG)
					report(m, m->skipped, T_ADR, r->id,
					    "address is longer than %d bytes", HSDS_ADDRESS_MAX);
				else
					report(m, m->skipped, T_ADR, r->id, "%s %s", parts[p],
					    text_problem(rc));
				break;
			}
			if (used) {
				memcpy(buf + used, ", ", 2);
				used += 2;
			}
			memcpy(buf + used, part, n);
			used += n;
			buf[used] = '\0';
		}
		if (p < 3)
			continue;
		if ((r->text = strdup(buf)) == NULL || ivec_push(&loc->adr, i) != 0)
			m->oom = 1;
	}
}

/* A language code: trimmed, up to '-' or '_', lower case, 2-3 letters. */
static int
language_code(const char *s, size_t len, char out[4])
{
	size_t i, n = 0;

	s = trim(s, &len);
	while (n < len && s[n] != '-' && s[n] != '_')
		n++;
	if (n < 2 || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		int c = lower((unsigned char)s[i]);
		if (c < 'a' || c > 'z')
			return -1;
		out[i] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static void
check_languages(struct map *m)
{
	struct tab *t = &m->t[T_LNG];
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct row *r = &t->v[i];
		struct row *svc = find(m, T_SVC, r->link[L_SVC]);
		struct row *loc = find(m, T_LOC, r->link[L_LOC]);
		const char *s;
		size_t len;
		char q[64];
		int rc;

		if (r->link[L_SVC] == NULL && r->link[L_LOC] == NULL)
			continue;	/* a phone's, say: not a provider's */
		rc = str_field(r->obj, "code", &s, &len);
		if (rc <= 0) {
			report(m, m->skipped, T_LNG, r->id, rc == 0 ? "no code" : "code is not a string");
			continue;
		}
		if (language_code(s, len, r->code) != 0) {
			report(m, m->skipped, T_LNG, r->id, "code '%s' is not an ISO 639 language code",
			    snip(s, len, q, sizeof q));
			continue;
		}
		if (svc == NULL && loc == NULL) {
			report(m, m->skipped, T_LNG, r->id, "%s %s not found",
			    r->link[L_SVC] ? "service" : "location",
			    r->link[L_SVC] ? r->link[L_SVC] : r->link[L_LOC]);
			continue;
		}
		if ((svc != NULL && ivec_push(&svc->lng, i) != 0) ||
		    (loc != NULL && ivec_push(&loc->lng, i) != 0))
			m->oom = 1;
	}
}

static void
link_attributes(struct map *m)
{
	struct tab *t = &m->t[T_ATR];
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct row *r = &t->v[i], *to;

		if (r->entity == ENT_ANY || r->entity == ENT_SAL)
			if ((to = find(m, T_SAL, r->link[L_ATTR])) != NULL && ivec_push(&to->atr, i) != 0)
				m->oom = 1;
		if (r->entity == ENT_ANY || r->entity == ENT_SVC)
			if ((to = find(m, T_SVC, r->link[L_ATTR])) != NULL && ivec_push(&to->atr, i) != 0)
				m->oom = 1;
	}
}

/* ---- pass 3: providers and organizations */

/* The korpu area an attribute names, or NULL. */
static const char *
attribute_area(struct map *m, const struct row *a)
{
	static const char *const keys[] = { "code", "name", "term" };
	const json_t *term = a->term;
	const char *s;
	size_t len, k, i;

	if (term == NULL && a->link[L_TERM] != NULL) {
		const struct row *tr = find(m, T_TRM, a->link[L_TERM]);
		term = tr ? tr->obj : NULL;
	}
	for (k = 0; k < 4; k++) {
		if (k == 0 ? str_field(a->obj, "value", &s, &len) <= 0 :
		    term == NULL || str_field(term, keys[k - 1], &s, &len) <= 0)
			continue;
		for (i = 0; i < m->opt->n_areas; i++)
			if (same_word(s, len, m->opt->areas[i]))
				return m->opt->areas[i];
	}
	return NULL;
}

static const char *
area_of(struct map *m, const struct row *sal, const struct row *svc)
{
	const struct row *rows[2] = { sal, svc };
	const char *area;
	size_t r, i;

	for (r = 0; r < 2; r++)
		for (i = 0; rows[r] != NULL && i < rows[r]->atr.n; i++)
			if ((area = attribute_area(m, &m->t[T_ATR].v[rows[r]->atr.v[i]])) != NULL)
				return area;
	return NULL;
}

/* A location's address row: its first physical one, else its first. */
static const struct row *
address_of(struct map *m, const struct row *loc)
{
	const char *s;
	size_t len, i;

	for (i = 0; i < loc->adr.n; i++) {
		const struct row *a = &m->t[T_ADR].v[loc->adr.v[i]];
		if (str_field(a->obj, "address_type", &s, &len) > 0 && same_word(s, len, "physical"))
			return a;
	}
	return loc->adr.n ? &m->t[T_ADR].v[loc->adr.v[0]] : NULL;
}

/* The configured region an address names, or NULL. */
static const char *
region_of(struct map *m, const struct row *adr)
{
	static const char *const keys[] = { "region", "state_province", "city" };
	const char *s;
	size_t len, k, i;

	for (k = 0; adr != NULL && k < 3; k++) {
		if (str_field(adr->obj, keys[k], &s, &len) <= 0)
			continue;
		for (i = 0; i < m->opt->n_regions; i++)
			if (same_word(s, len, m->opt->regions[i]))
				return m->opt->regions[i];
	}
	return NULL;
}

/* The capacity of a provider in area (one of opt->areas). */
static int
capacity_of(const struct hsds_options *opt, const char *area)
{
	for (size_t i = 0; opt->area_capacity && i < opt->n_areas; i++)
		if (strcmp(opt->areas[i], area) == 0)
			return opt->area_capacity[i];
	return opt->capacity;
}

static json_t *
languages_of(struct map *m, const struct row *svc, const struct row *loc, int *dropped)
{
	const struct row *rows[2] = { svc, loc };
	json_t *a = json_array();
	size_t r, i, j;

	if (a == NULL) {
		m->oom = 1;
		return NULL;
	}
	for (r = 0; r < 2; r++)
		for (i = 0; i < rows[r]->lng.n; i++) {
			const char *code = m->t[T_LNG].v[rows[r]->lng.v[i]].code;

			for (j = 0; j < json_array_size(a); j++)
				if (strcmp(json_string_value(json_array_get(a, j)), code) == 0)
					break;
			if (j < json_array_size(a))
				continue;
			if (j == HSDS_LANGUAGES_MAX) {
				*dropped = 1;
				continue;
			}
			append(m, a, json_string(code));
		}
	return a;
}

static json_t *
rule_json(struct map *m, const struct rule *r)
{
	json_t *o = json_object(), *days = json_array();
	char t[16];
	int d;

	for (d = 0; d < 7; d++)
		if (r->days & (1u << d))
			append(m, days, json_string(day_name[d]));
	put(m, o, "days", days);
	snprintf(t, sizeof t, "%02d:%02d", r->open / 60 % 100, r->open % 60);
	put(m, o, "open", json_string(t));
	snprintf(t, sizeof t, "%02d:%02d", r->close / 60 % 100, r->close % 60);
	put(m, o, "close", json_string(t));
	if (o == NULL)
		m->oom = 1;
	return o;
}

/* Adds schedule row k's rule to hours unless it repeats or overlaps
 * earlier ones, day by day. */
static void
add_rule(struct map *m, struct rule *rules, size_t *n, size_t k, json_t *hours,
    const char *provider)
{
	const struct row *s = &m->t[T_SCH].v[k];
	struct rule r = s->rule;
	unsigned clash = 0;
	size_t i;
	int d;

	if (s->bad)
		return;
	for (i = 0; i < *n; i++)
		for (d = 0; d < 7; d++) {
			if (!(r.days & rules[i].days & (1u << d)))
				continue;
			if (r.open == rules[i].open && r.close == rules[i].close)
				r.days &= ~(1u << d);
			else if (r.open < rules[i].close && rules[i].open < r.close) {
				r.days &= ~(1u << d);
				clash |= 1u << d;
			}
		}
	for (d = 0; d < 7; d++) {
		size_t on_day = 0;

		for (i = 0; i < *n; i++)
			if (rules[i].days & (1u << d))
				on_day++;
		if ((r.days & (1u << d)) && on_day == HSDS_DAY_RULES_MAX) {
			r.days &= ~(1u << d);
			report(m, m->skipped, T_SCH, s->id, "provider %s has %d opening rules on %s"
			    " already, the most korpu takes; dropped there", provider,
			    HSDS_DAY_RULES_MAX, day_name[d]);
		}
	}
	if (clash) {
		char days[32] = "";

		for (d = 0; d < 7; d++)
			if (clash & (1u << d)) {
				if (days[0])
					strcat(days, ",");
				strcat(days, day_name[d]);
			}
		report(m, m->skipped, T_SCH, s->id, "overlaps an earlier schedule of provider %s on"
		    " %s; dropped there", provider, days);
	}
	if (r.days == 0)
		return;
	rules[(*n)++] = r;
	append(m, hours, rule_json(m, &r));
}

/* The provider's hours: the service_at_location's schedules, else the
 * location's (for any service or this one), else the service's. */
static json_t *
hours_of(struct map *m, const struct row *sal, const struct row *svc, const struct row *loc,
    const char *provider)
{
	json_t *hours = json_array();
	struct rule *rules;
	size_t n = 0, i, max;

	if (hours == NULL) {
		m->oom = 1;
		return NULL;
	}
	max = (sal ? sal->sch.n : 0) + loc->sch.n + svc->sch.n;
	if (max == 0)
		return hours;
	if ((rules = calloc(max, sizeof *rules)) == NULL) {
		m->oom = 1;
		return hours;
	}
	if (sal != NULL && sal->sch.n > 0) {
		for (i = 0; i < sal->sch.n; i++)
			add_rule(m, rules, &n, sal->sch.v[i], hours, provider);
	} else {
		int any = 0;

		for (i = 0; i < loc->sch.n; i++) {
			const struct row *s = &m->t[T_SCH].v[loc->sch.v[i]];

			if (s->link[L_SVC] == NULL || strcmp(s->link[L_SVC], svc->id) == 0) {
				any = 1;
				add_rule(m, rules, &n, loc->sch.v[i], hours, provider);
			}
		}
		for (i = 0; !any && i < svc->sch.n; i++)
			add_rule(m, rules, &n, svc->sch.v[i], hours, provider);
	}
	free(rules);
	return hours;
}

/* One provider: service svc at location loc, through service_at_location
 * sal (NULL for the one-location case); rt/rid name the row to report. */
static void
map_provider(struct map *m, const struct row *sal, const struct row *svc, const struct row *loc,
    const char *source_id, enum table rt, const char *rid)
{
	struct row *org = find(m, T_ORG, svc->link[L_ORG]);
	const struct row *adr;
	const char *area, *region;
	char name[2 * HSDS_NAME_MAX + 8];
	json_t *p, *hours;
	int many = 0;

	if ((area = area_of(m, sal, svc)) == NULL && (area = m->opt->default_area) == NULL) {
		report(m, m->skipped, rt, rid, "no korpu service area: no attribute names one of"
		    " the areas, and no default");
		return;
	}
	adr = address_of(m, loc);
	if ((region = region_of(m, adr)) == NULL && (region = m->opt->default_region) == NULL) {
		report(m, m->skipped, rt, rid, "no korpu region: the location's address names no"
		    " configured region, and no default");
		return;
	}
	if (loc->text != NULL && strcmp(loc->text, svc->text) != 0 &&
	    strlen(svc->text) + strlen(loc->text) + 3 <= HSDS_NAME_MAX)
		snprintf(name, sizeof name, "%s (%s)", svc->text, loc->text);
	else
		snprintf(name, sizeof name, "%s", svc->text);
	if ((p = json_object()) == NULL) {
		m->oom = 1;
		return;
	}
	put(m, p, "source_id", json_string(source_id));
	put(m, p, "organization_source_id", json_string(org->id));
	put(m, p, "name", json_string(name));
	put(m, p, "area", json_string(area));
	put(m, p, "region", json_string(region));
	put(m, p, "address", json_string(adr ? adr->text : ""));
	put(m, p, "languages", languages_of(m, svc, loc, &many));
	if (many)
		report(m, m->warnings, rt, rid, "more than %d languages: the first %d kept",
		    HSDS_LANGUAGES_MAX, HSDS_LANGUAGES_MAX);
	put(m, p, "timezone", json_string(m->opt->timezone));
	put(m, p, "slot_minutes", json_integer(m->opt->slot_minutes));
	put(m, p, "capacity", json_integer(capacity_of(m->opt, area)));
	hours = hours_of(m, sal, svc, loc, source_id);
	if (json_array_size(hours) == 0)
		report(m, m->warnings, rt, rid, "no usable opening hours: imported with \"hours\": []"
		    " and so without slots");
	put(m, p, "hours", hours);
	put(m, p, "closed", json_array());
	append(m, m->providers, p);
	if (org->region == NULL)
		org->region = region;
}

/* Is the row named by link usable? Reports why not on behalf of rt/rid. */
static struct row *
usable(struct map *m, enum table t, const char *link, enum table rt, const char *rid)
{
	struct row *r;

	if (link == NULL) {
		report(m, m->skipped, rt, rid, "no %s", t == T_SVC ? "service_id" : "location_id");
		return NULL;
	}
	if ((r = find(m, t, link)) == NULL) {
		report(m, m->skipped, rt, rid, "%s %s not found", t == T_SVC ? "service" : "location",
		    link);
		return NULL;
	}
	if (r->bad) {
		report(m, m->skipped, rt, rid, "%s %s was skipped", t == T_SVC ? "service" : "location",
		    link);
		return NULL;
	}
	return r;
}

static void
map_providers(struct map *m)
{
	size_t i;

	for (i = 0; i < m->t[T_SAL].n && !m->oom; i++) {
		const struct row *sal = &m->t[T_SAL].v[i], *svc, *loc;

		if ((svc = usable(m, T_SVC, sal->link[L_SVC], T_SAL, sal->id)) == NULL ||
		    (loc = usable(m, T_LOC, sal->link[L_LOC], T_SAL, sal->id)) == NULL)
			continue;
		map_provider(m, sal, svc, loc, sal->id, T_SAL, sal->id);
	}
	for (i = 0; i < m->t[T_SVC].n && !m->oom; i++) {
		const struct row *svc = &m->t[T_SVC].v[i], *org, *loc;
		char source[2 * HSDS_ID_MAX + 2];

		if (svc->bad || svc->sal.n > 0)
			continue;
		org = find(m, T_ORG, svc->link[L_ORG]);
		if (org->loc.n != 1) {
			report(m, m->skipped, T_SVC, svc->id, "no service_at_location, and its"
			    " organization has %zu locations, not one", org->loc.n);
			continue;
		}
		loc = &m->t[T_LOC].v[org->loc.v[0]];
		if (loc->bad) {
			report(m, m->skipped, T_SVC, svc->id, "location %s was skipped", loc->id);
			continue;
		}
		snprintf(source, sizeof source, "%s@%s", svc->id, loc->id);
		if (find(m, T_SAL, source) != NULL) {
			report(m, m->skipped, T_SVC, svc->id, "its source_id %s is a service_at_location's",
			    source);
			continue;
		}
		map_provider(m, NULL, svc, loc, source, T_SVC, svc->id);
	}
}

static void
map_organizations(struct map *m)
{
	size_t i, j;

	for (i = 0; i < m->t[T_ORG].n && !m->oom; i++) {
		const struct row *o = &m->t[T_ORG].v[i];
		const char *region = o->region;
		json_t *e;

		if (o->bad)
			continue;
		for (j = 0; region == NULL && j < o->loc.n; j++) {
			const struct row *loc = &m->t[T_LOC].v[o->loc.v[j]];
			if (!loc->bad)
				region = region_of(m, address_of(m, loc));
		}
		if (region == NULL && (region = m->opt->default_region) == NULL) {
			report(m, m->skipped, T_ORG, o->id, "no korpu region: no provider or location"
			    " of it is in a configured region, and no default");
			continue;
		}
		if ((e = json_object()) == NULL) {
			m->oom = 1;
			return;
		}
		put(m, e, "source_id", json_string(o->id));
		put(m, e, "name", json_string(o->text));
		put(m, e, "kind", json_string(o->kind));
		put(m, e, "region", json_string(region));
		append(m, m->orgs, e);
	}
}

/* ---- entry */

static int
options_check(const struct hsds_options *opt, char *err, size_t errlen)
{
	size_t i;
	char d[9];
	int y, mo, da;

	if (opt == NULL) {
		snprintf(err, errlen, "no options");
		return -1;
	}
	if (opt->timezone == NULL || opt->timezone[0] == '\0') {
		snprintf(err, errlen, "options: no timezone");
		return -1;
	}
	if (opt->slot_minutes < 5 || opt->slot_minutes > 480 || opt->capacity < 1 ||
	    opt->capacity > 1000) {
		snprintf(err, errlen, "options: slot_minutes must be 5..480 and capacity 1..1000");
		return -1;
	}
	if ((opt->n_areas && opt->areas == NULL) || (opt->n_regions && opt->regions == NULL)) {
		snprintf(err, errlen, "options: areas or regions missing");
		return -1;
	}
	for (i = 0; i < opt->n_areas; i++) {
		if (opt->areas[i] == NULL) {
			snprintf(err, errlen, "options: area %zu is NULL", i);
			return -1;
		}
		if (opt->area_capacity &&
		    (opt->area_capacity[i] < 1 || opt->area_capacity[i] > 1000)) {
			snprintf(err, errlen, "options: capacity of area %s must be 1..1000",
			    opt->areas[i]);
			return -1;
		}
	}
	for (i = 0; i < opt->n_regions; i++)
		if (opt->regions[i] == NULL) {
			snprintf(err, errlen, "options: region %zu is NULL", i);
			return -1;
		}
	if (opt->default_area != NULL) {
		for (i = 0; i < opt->n_areas && strcmp(opt->areas[i], opt->default_area) != 0; i++)
			;
		if (i == opt->n_areas) {
			snprintf(err, errlen, "options: default_area is not one of the areas");
			return -1;
		}
	}
	if (opt->default_region != NULL) {
		for (i = 0; i < opt->n_regions && strcmp(opt->regions[i], opt->default_region) != 0; i++)
			;
		if (i == opt->n_regions) {
			snprintf(err, errlen, "options: default_region is not one of the regions");
			return -1;
		}
	}
	if (opt->today != NULL && (strlen(opt->today) != 10 ||
	    parse_date(opt->today, 10, d, &y, &mo, &da) != 0)) {
		snprintf(err, errlen, "options: today is not a YYYY-MM-DD date");
		return -1;
	}
	return 0;
}

static void
map_free(struct map *m)
{
	static const size_t vecs = 6;
	size_t t, i, v;

	for (t = 0; t < T_COUNT; t++) {
		for (i = 0; i < m->t[t].n; i++) {
			struct row *r = &m->t[t].v[i];
			struct ivec *all[6] = { &r->sch, &r->lng, &r->adr, &r->atr, &r->sal, &r->loc };

			for (v = 0; v < vecs; v++)
				free(all[v]->v);
			free(r->text);
		}
		free(m->t[t].v);
		free(m->t[t].slot);
	}
	json_decref(m->orgs);
	json_decref(m->providers);
	json_decref(m->skipped);
	json_decref(m->warnings);
}

int
hsds_map(const json_t *dataset, const struct hsds_options *opt, json_t **out, char *err,
    size_t errlen)
{
	struct map m;
	char scratch[1];

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if (out == NULL) {
		snprintf(err, errlen, "no place for the result");
		return -1;
	}
	*out = NULL;
	if (options_check(opt, err, errlen) != 0)
		return -1;
	memset(&m, 0, sizeof m);
	m.opt = opt;
	m.orgs = json_array();
	m.providers = json_array();
	m.skipped = json_array();
	m.warnings = json_array();
	if (m.orgs == NULL || m.providers == NULL || m.skipped == NULL || m.warnings == NULL)
		m.oom = 1;
	else if (collect_document(&m, dataset, err, errlen) != 0) {
		map_free(&m);
		return -1;
	}
	if (!m.oom) {
		check_organizations(&m);
		link_locations(&m);
		check_services(&m);
		check_locations(&m);
		link_sals(&m);
		check_schedules(&m);
		check_addresses(&m);
		check_languages(&m);
		link_attributes(&m);
		map_providers(&m);
		map_organizations(&m);
	}
	if (!m.oom && (*out = json_object()) != NULL) {
		put(&m, *out, "organizations", json_incref(m.orgs));
		put(&m, *out, "providers", json_incref(m.providers));
		put(&m, *out, "skipped", json_incref(m.skipped));
		put(&m, *out, "warnings", json_incref(m.warnings));
	}
	if (m.oom || *out == NULL) {
		json_decref(*out);
		*out = NULL;
		map_free(&m);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	map_free(&m);
	return 0;
}
