/*
 * plugin-load.c - finds, opens and checks area plugins. Partners build
 * plugins out of tree, so nothing about a descriptor is trusted: its ABI
 * stamp, its tables and its settings are checked before any of its code
 * runs, and every refusal names the file and the reason.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

/* The v1.0 descriptor ends after reconfigure; anything shorter is broken. */
#define DESC_V1_0_SIZE (offsetof(struct korpu_plugin, reconfigure) + \
	sizeof(((struct korpu_plugin *)0)->reconfigure))

const char *
plugin_booking_model_name(enum korpu_booking_model m)
{
	switch (m) {
	case KORPU_BOOKING_SLOT: return "slot";
	case KORPU_BOOKING_SESSION: return "session";
	case KORPU_BOOKING_SEAT: return "seat";
	case KORPU_BOOKING_WAITLIST: return "waitlist";
	}
	return NULL;
}

const char *
plugin_field_type_name(enum korpu_field_type t)
{
	switch (t) {
	case KORPU_FIELD_STRING: return "string";
	case KORPU_FIELD_INTEGER: return "integer";
	case KORPU_FIELD_BOOLEAN: return "boolean";
	case KORPU_FIELD_DATE: return "date";
	case KORPU_FIELD_ENUM: return "enum";
	}
	return NULL;
}

static int
ident_valid(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int
check_fields(const struct korpu_field *f, struct errlist *errs, const char *where)
{
	size_t n = 0;
	int rc = 0;

	for (; f && f->name; f++, n++) {
		if (n >= 64) {
			errlist_add(errs, where, "more than 64 fields");
			return -1;
		}
		if (!ident_valid(f->name, 64)) {
			errlist_add(errs, where, "field %zu has an invalid name", n);
			rc = -1;
			continue;
		}
		if (f->label == NULL || plugin_field_type_name(f->type) == NULL) {
			errlist_add(errs, where, "field %s needs a label and a known type", f->name);
			rc = -1;
		}
		if (f->type == KORPU_FIELD_ENUM && (f->enum_values == NULL || f->enum_values[0] == NULL)) {
			errlist_add(errs, where, "enum field %s lists no values", f->name);
			rc = -1;
		}
		if (f->type == KORPU_FIELD_INTEGER && f->min > f->max) {
			errlist_add(errs, where, "integer field %s has min > max", f->name);
			rc = -1;
		}
		for (const struct korpu_field *g = f + 1; g->name; g++)
			if (strcmp(g->name, f->name) == 0) {
				errlist_add(errs, where, "field %s is declared twice", f->name);
				rc = -1;
			}
	}
	return rc;
}

static int
check_settings_table(const struct korpu_setting *s, struct errlist *errs, const char *where)
{
	int rc = 0;

	for (size_t n = 0; s && s->name; s++, n++) {
		if (n >= 128 || !ident_valid(s->name, 64) ||
		    s->type < KORPU_SETTING_INT || s->type > KORPU_SETTING_STRING_LIST ||
		    (s->type == KORPU_SETTING_INT && s->min > s->max)) {
			errlist_add(errs, where, "setting %zu (%s) is malformed", n,
			    s->name ? s->name : "?");
			rc = -1;
		}
	}
	return rc;
}

/*
 * Checks a descriptor as found in a file; name is the name it was enabled
 * under. Returns 0, or -1 with the reasons in errs.
 */
int
plugin_check_descriptor(const struct korpu_plugin *d, const char *name,
    struct errlist *errs, const char *where)
{
	size_t before = errs->n;

	if (d->abi_major != KORPU_ABI_MAJOR) {
		errlist_add(errs, where, "plugin ABI %u.%u does not match korpud's ABI %d.%d: rebuild the plugin against this korpud's korpu/plugin.h",
		    d->abi_major, d->abi_minor, KORPU_ABI_MAJOR, KORPU_ABI_MINOR);
		return -1;
	}
	if (d->abi_minor > KORPU_ABI_MINOR) {
		errlist_add(errs, where, "plugin needs ABI %u.%u but this korpud offers %d.%d: upgrade korpud",
		    d->abi_major, d->abi_minor, KORPU_ABI_MAJOR, KORPU_ABI_MINOR);
		return -1;
	}
	if (d->struct_size < DESC_V1_0_SIZE) {
		errlist_add(errs, where, "descriptor is %u bytes, shorter than ABI 1.0's %zu",
		    d->struct_size, DESC_V1_0_SIZE);
		return -1;
	}
	if (!ident_valid(d->name, 32) || strcmp(d->name, name) != 0)
		errlist_add(errs, where, "descriptor name \"%s\" must equal the enabled name \"%s\"",
		    d->name ? d->name : "(null)", name);
	if (d->title == NULL || *d->title == '\0' || d->version == NULL || *d->version == '\0')
		errlist_add(errs, where, "descriptor needs a title and a version");
	if (plugin_booking_model_name(d->booking_model) == NULL)
		errlist_add(errs, where, "unknown booking model %d", (int)d->booking_model);
	if (d->init == NULL)
		errlist_add(errs, where, "descriptor has no init hook");
	check_fields(d->fields, errs, where);
	check_settings_table(d->settings, errs, where);
	return errs->n > before ? -1 : 0;
}

/* Maps a plugin's settings table onto conf-check.c's key table. */
static struct conf_key *
settings_as_keys(const struct korpu_setting *s)
{
	size_t n = 0;
	struct conf_key *keys;

	while (s && s[n].name)
		n++;
	/* The plugin's settings, then korpud's own keys of every area file. */
	keys = calloc(n + 2, sizeof(*keys));
	for (size_t i = 0; keys && i < n; i++) {
		static const enum conf_type map[] = {
			[KORPU_SETTING_INT] = CT_INT, [KORPU_SETTING_BOOL] = CT_BOOL,
			[KORPU_SETTING_STRING] = CT_STRING,
			[KORPU_SETTING_STRING_LIST] = CT_STRING_LIST,
		};
		keys[i].name = s[i].name;
		keys[i].type = map[s[i].type];
		keys[i].flags = s[i].required ? CK_REQUIRED : 0;
		keys[i].min = s[i].min;
		keys[i].max = s[i].max;
		keys[i].choices = s[i].choices;
	}
	if (keys) {
		keys[n].name = CONF_AREA_DEADLINE;
		keys[n].type = CT_INT;
		keys[n].min = 1;
		keys[n].max = 24 * 365;
	}
	return keys;
}

/* Checks a plugin's configuration group against its settings table. */
int
plugin_check_settings(const struct korpu_plugin *d, const struct conf_plugin *cp,
    struct errlist *errs)
{
	struct conf_key *keys = settings_as_keys(d->settings);
	char path[64];
	int rc;

	if (keys == NULL) {
		errlist_add(errs, cp->file, "out of memory");
		return -1;
	}
	if (cp->group == NULL && keys[0].name != NULL) {
		/* No file: only acceptable when nothing is required. */
		for (struct conf_key *k = keys; k->name; k++)
			if (k->flags & CK_REQUIRED) {
				errlist_add(errs, cp->file, "missing: plugin %s requires setting %s",
				    d->name, k->name);
				free(keys);
				return -1;
			}
	}
	snprintf(path, sizeof(path), "%s", d->name);
	rc = conf_check_group(cp->group, keys, path, NULL, errs);
	free(keys);
	return rc;
}

/* Opens DIR/NAME.so and checks its descriptor; nothing of it runs yet. */
int
plugin_open(const char *dir, const char *name, struct plugin *p, struct errlist *errs)
{
	const struct korpu_plugin *d;
	char where[512];

	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	if (asprintf(&p->path, "%s/%s.so", dir, name) < 0) {
		p->path = NULL;
		errlist_add(errs, name, "out of memory");
		return -1;
	}
	snprintf(where, sizeof(where), "plugin %s (%s)", name, p->path);
	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL) {
		errlist_add(errs, where, "cannot load: %s", dlerror());
		return -1;
	}
	d = dlsym(p->dl, KORPU_PLUGIN_SYMBOL);
	if (d == NULL) {
		errlist_add(errs, where, "no %s symbol: not a korpu plugin", KORPU_PLUGIN_SYMBOL);
		return -1;
	}
	if (plugin_check_descriptor(d, name, errs, where) < 0)
		return -1;
	p->desc = d;
	return 0;
}

/* Opens every enabled plugin and checks its settings. */
int
plugins_open_all(const struct conf *c, struct plugin_set *set, struct errlist *errs)
{
	size_t before = errs->n;

	set->v = calloc(c->n_plugin_conf + 1, sizeof(*set->v));
	set->n = 0;
	if (set->v == NULL)
		return -1;
	for (size_t i = 0; i < c->n_plugin_conf; i++) {
		struct plugin *p = &set->v[set->n++];

		if (plugin_open(c->plugins.dir, c->plugin_conf[i].name, p, errs) < 0)
			continue;
		plugin_check_settings(p->desc, &c->plugin_conf[i], errs);
	}
	return errs->n > before ? -1 : 0;
}

void
plugins_close_all(struct plugin_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct plugin *p = &set->v[i];
		/* Sanitizer builds keep plugins mapped so leak reports can
		 * still name their functions. */
#ifndef KORPU_KEEP_PLUGINS_MAPPED
		if (p->dl)
			dlclose(p->dl);
#endif
		free(p->name);
		free(p->path);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

const struct plugin *
plugins_find(const struct plugin_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].desc && strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}
