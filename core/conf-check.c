/*
 * conf-check.c - the one validator for every configuration group: core's
 * (conf-schema.c) and each plugin's (its korpu_setting table). Strict on
 * purpose: an unknown key is an error, because a typo silently ignored is
 * a setting an administrator believes is in force and is not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

/* "file:line" of a setting, for every message about it. */
const char *
conf_where(const config_setting_t *s, char *buf, size_t len)
{
	const char *file = config_setting_source_file(s);
	unsigned line = config_setting_source_line(s);

	/* The root group has no source of its own: name its first child's. */
	for (int i = 0; file == NULL && config_setting_is_group(s) &&
	    i < config_setting_length(s); i++)
		file = config_setting_source_file(config_setting_get_elem(s, (unsigned)i));
	if (file == NULL)
		file = "(config)";
	if (line > 0)
		snprintf(buf, len, "%s:%u", file, line);
	else
		snprintf(buf, len, "%s", file);
	return buf;
}

void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* Edit distance, small strings only: for "did you mean" hints. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const struct conf_key *
key_find(const struct conf_key *keys, const char *name)
{
	for (const struct conf_key *k = keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static const char *
key_suggest(const struct conf_key *keys, const char *name)
{
	for (const struct conf_key *k = keys; k->name; k++)
		if (distance(k->name, name) <= 2)
			return k->name;
	return NULL;
}

static int
in_choices(const char *const *choices, const char *s)
{
	if (choices == NULL)
		return 1;
	for (; *choices; choices++)
		if (strcmp(*choices, s) == 0)
			return 1;
	return 0;
}

static void
choices_text(const char *const *choices, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; choices && *choices && off < len; choices++)
		off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "", *choices);
}

static const char *
type_name(enum conf_type t)
{
	switch (t) {
	case CT_GROUP: return "a group { ... }";
	case CT_INT: return "an integer";
	case CT_BOOL: return "true or false";
	case CT_STRING: return "a string in double quotes";
	case CT_STRING_LIST: return "a list of strings [ \"a\", \"b\" ]";
	}
	return "?";
}

static int
check_string(const config_setting_t *s, const struct conf_key *k,
    const char *path, const char *str, struct errlist *errs)
{
	char where[512], allowed[512];
	size_t len = strlen(str);

	conf_where(s, where, sizeof(where));
	if ((k->flags & CK_NOEMPTY) && len == 0) {
		errlist_add(errs, where, "%s must not be empty", path);
		return -1;
	}
	if ((long long)len < k->min || (k->max > 0 && (long long)len > k->max)) {
		errlist_add(errs, where, "%s must be %lld to %lld characters long",
		    path, k->min, k->max);
		return -1;
	}
	if (!in_choices(k->choices, str)) {
		choices_text(k->choices, allowed, sizeof(allowed));
		errlist_add(errs, where, "%s: \"%s\" is not one of: %s", path, str,
		    allowed);
		return -1;
	}
	return 0;
}

static int
check_list(const config_setting_t *s, const struct conf_key *k,
    const char *path, struct strlist *out, struct errlist *errs)
{
	char where[512];
	int n = config_setting_length(s), bad = 0;

	conf_where(s, where, sizeof(where));
	if ((k->flags & CK_NOEMPTY) && n == 0) {
		errlist_add(errs, where, "%s must list at least one value", path);
		return -1;
	}
	if (k->max > 0 && n > k->max) {
		errlist_add(errs, where, "%s lists %d values, at most %lld allowed",
		    path, n, k->max);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *str = config_setting_get_string(e);
		struct conf_key elem = *k;

		if (str == NULL) {
			errlist_add(errs, where, "%s[%d] must be a string", path, i);
			bad = 1;
			continue;
		}
		elem.min = 0;
		elem.max = 0;
		elem.flags = CK_NOEMPTY;
		if (check_string(e, &elem, path, str, errs) < 0) {
			bad = 1;
			continue;
		}
		for (int j = 0; j < i; j++) {
			const char *prev = config_setting_get_string(
			    config_setting_get_elem(s, (unsigned)j));
			if (prev && strcmp(prev, str) == 0) {
				errlist_add(errs, where, "%s lists \"%s\" twice", path, str);
				bad = 1;
			}
		}
	}
	if (bad || out == NULL)
		return bad ? -1 : 0;
	out->v = calloc((size_t)n + 1, sizeof(char *));
	out->n = 0;
	for (int i = 0; out->v && i < n; i++)
		out->v[out->n++] = strdup(config_setting_get_string(
		    config_setting_get_elem(s, (unsigned)i)));
	return 0;
}

static int check_key(const config_setting_t *group, const struct conf_key *k,
    const char *path, void *dest, struct errlist *errs);

/*
 * Checks one group against its keys and, when dest is not NULL, stores
 * each value (or its default) at the key's offset in dest. Returns 0 when
 * the group is valid, -1 after adding every problem to errs. A NULL group
 * stands for an absent optional one: defaults apply.
 */
int
conf_check_group(const config_setting_t *group, const struct conf_key *keys,
    const char *path, void *dest, struct errlist *errs)
{
	char where[512], sub[256];
	int rc = 0;

	if (group != NULL) {
		int n = config_setting_length(group);
		for (int i = 0; i < n; i++) {
			const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
			const char *name = config_setting_name(s);
			const char *hint;

			if (name == NULL || key_find(keys, name) != NULL)
				continue;
			hint = key_suggest(keys, name);
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", name);
			errlist_add(errs, conf_where(s, where, sizeof(where)),
			    "unknown key %s%s%s%s", sub, hint ? " (did you mean " : "",
			    hint ? hint : "", hint ? "?)" : "");
			rc = -1;
		}
	}
	for (const struct conf_key *k = keys; k->name; k++)
		if (check_key(group, k, path, dest, errs) < 0)
			rc = -1;
	return rc;
}

static int
check_key(const config_setting_t *group, const struct conf_key *k,
    const char *path, void *dest, struct errlist *errs)
{
	const config_setting_t *s = group ? config_setting_get_member(group, k->name) : NULL;
	char *at = dest ? (char *)dest + k->offset : NULL;
	char where[512], sub[256];
	int type;

	snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", k->name);
	if (s == NULL) {
		if (k->flags & CK_REQUIRED) {
			errlist_add(errs, group ? conf_where(group, where, sizeof(where)) : "",
			    "missing required key %s", sub);
			return -1;
		}
		if (k->type == CT_GROUP)
			return conf_check_group(NULL, k->children, sub, dest, errs);
		if (at == NULL)
			return 0;
		if (k->type == CT_INT)
			*(long long *)at = k->def;
		else if (k->type == CT_BOOL)
			*(int *)at = (int)k->def;
		else if (k->type == CT_STRING)
			*(char **)at = k->defstr ? strdup(k->defstr) : NULL;
		return 0;
	}

	conf_where(s, where, sizeof(where));
	type = config_setting_type(s);
	switch (k->type) {
	case CT_GROUP:
		if (type != CONFIG_TYPE_GROUP)
			break;
		return conf_check_group(s, k->children, sub, dest, errs);
	case CT_INT: {
		long long v;
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			break;
		v = config_setting_get_int64(s);
		if (v < k->min || v > k->max) {
			errlist_add(errs, where, "%s = %lld is out of range (%lld to %lld)",
			    sub, v, k->min, k->max);
			return -1;
		}
		if (at)
			*(long long *)at = v;
		return 0;
	}
	case CT_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			break;
		if (at)
			*(int *)at = config_setting_get_bool(s);
		return 0;
	case CT_STRING: {
		const char *str;
		if (type != CONFIG_TYPE_STRING)
			break;
		str = config_setting_get_string(s);
		if (check_string(s, k, sub, str, errs) < 0)
			return -1;
		if (at)
			*(char **)at = strdup(str);
		return 0;
	}
	case CT_STRING_LIST:
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			break;
		return check_list(s, k, sub, at ? (struct strlist *)at : NULL, errs);
	}
	errlist_add(errs, where, "%s must be %s", sub, type_name(k->type));
	return -1;
}
