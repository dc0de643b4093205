/*
 * test-plugin-load.c - the loader: the five real plugins open, broken ones
 * are refused with a reason naming the file, hand-made descriptors are
 * checked field by field, and plugin settings files against their tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "korpud.h"

/* The ABI this korpud offers, and the next minor, as the messages write them. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define ABI_NOW STR(KORPU_ABI_MAJOR) "." STR(KORPU_ABI_MINOR)

#include "util.h"

/* Frees what plugin_open left in p, whether it succeeded or not. */
static void
plugin_release(struct plugin *p)
{
	if (p->dl)
		dlclose(p->dl);
	free(p->name);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

static void
plugin_real_ones_open(void **state)
{
	static const struct {
		const char *name;
		enum korpu_booking_model model;
		const char *model_name;
	} areas[] = {
		{ "employment", KORPU_BOOKING_SLOT, "slot" },
		{ "schools", KORPU_BOOKING_SEAT, "seat" },
		{ "clinics", KORPU_BOOKING_SLOT, "slot" },
		{ "housing", KORPU_BOOKING_WAITLIST, "waitlist" },
		{ "integration", KORPU_BOOKING_SESSION, "session" },
	};

	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++) {
		struct errlist errs = { 0 };
		struct plugin p;
		const struct korpu_plugin *d;

		if (plugin_open(PLUGIN_BUILD_DIR, areas[i].name, &p, &errs) != 0)
			fail_msg("%s refused: %s: %s", areas[i].name,
			    errs.n ? errs.v[0].where : "?", errs.n ? errs.v[0].message : "?");
		assert_int_equal(errs.n, 0);
		d = p.desc;
		assert_non_null(d);
		assert_string_equal(p.name, areas[i].name);
		assert_non_null(strstr(p.path, PLUGIN_BUILD_DIR));
		assert_string_equal(d->name, areas[i].name);
		assert_int_equal(d->abi_major, KORPU_ABI_MAJOR);
		assert_int_equal(d->booking_model, areas[i].model);
		assert_string_equal(plugin_booking_model_name(d->booking_model), areas[i].model_name);
		assert_non_null(d->init);
		assert_non_null(d->fields);
		assert_non_null(d->fields[0].name);
		assert_non_null(plugin_field_type_name(d->fields[0].type));
		/* Checking it again, as found, passes too. */
		assert_int_equal(plugin_check_descriptor(d, areas[i].name, &errs, "again"), 0);
		assert_int_equal(errs.n, 0);
		plugin_release(&p);
	}
}

static void
plugin_wrong_abi_refused(void **state)
{
	struct errlist errs = { 0 };
	struct plugin p;

	assert_int_equal(plugin_open(TEST_PLUGIN_DIR, "wrong_abi", &p, &errs), -1);
	assert_null(p.desc);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].where, TEST_PLUGIN_DIR "/wrong_abi.so"));
	assert_error(&errs, NULL, "plugin ABI 2.0");
	assert_error(&errs, NULL, "korpud's ABI " ABI_NOW);
	errlist_free(&errs);
	plugin_release(&p);
}

static void
plugin_newer_minor_refused(void **state)
{
	struct errlist errs = { 0 };
	struct plugin p;

	assert_int_equal(plugin_open(TEST_PLUGIN_DIR, "newer_minor", &p, &errs), -1);
	assert_null(p.desc);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].where, TEST_PLUGIN_DIR "/newer_minor.so"));
	{
		char want[80];
		snprintf(want, sizeof(want), "needs ABI %d.%d but this korpud offers %d.%d",
		    KORPU_ABI_MAJOR, KORPU_ABI_MINOR + 1, KORPU_ABI_MAJOR, KORPU_ABI_MINOR);
		assert_error(&errs, NULL, want);
	}
	errlist_free(&errs);
	plugin_release(&p);
}

static void
plugin_init_fails_opens(void **state)
{
	struct errlist errs = { 0 };
	struct plugin p;

	/* Its descriptor is sound: only starting it fails, and opening
	 * runs none of its code. */
	assert_int_equal(plugin_open(TEST_PLUGIN_DIR, "init_fails", &p, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(p.desc);
	assert_string_equal(p.desc->settings[0].name, "reason");
	plugin_release(&p);
}

static void
plugin_missing_file_refused(void **state)
{
	struct errlist errs = { 0 };
	struct plugin p;

	assert_int_equal(plugin_open(PLUGIN_BUILD_DIR, "gardens", &p, &errs), -1);
	assert_null(p.desc);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].where, PLUGIN_BUILD_DIR "/gardens.so"));
	assert_error(&errs, NULL, "cannot load");
	errlist_free(&errs);
	plugin_release(&p);
}

static void
plugin_without_descriptor_refused(void **state)
{
	struct errlist errs = { 0 };
	struct plugin p;

	assert_int_equal(plugin_open(TEST_PLUGIN_DIR, "no_descriptor", &p, &errs), -1);
	assert_null(p.desc);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].where, TEST_PLUGIN_DIR "/no_descriptor.so"));
	assert_error(&errs, NULL, "no korpu_plugin symbol");
	errlist_free(&errs);
	plugin_release(&p);
}

static void
plugin_enabled_under_other_name_refused(void **state)
{
	struct errlist errs = { 0 };
	struct plugin p;
	char *dir = tmpdir_new();
	char *link = path_join(dir, "jobs.so");

	assert_int_equal(symlink(PLUGIN_BUILD_DIR "/employment.so", link), 0);
	assert_int_equal(plugin_open(dir, "jobs", &p, &errs), -1);
	assert_null(p.desc);
	assert_non_null(strstr(errs.v[0].where, link));
	assert_error(&errs, NULL, "descriptor name \"employment\" must equal the enabled name \"jobs\"");
	errlist_free(&errs);
	plugin_release(&p);
	free(link);
	tmpdir_remove(dir);
}

/* ---- hand-made descriptors */

static int
stub_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	return 0;
}

static const char *const sizes[] = { "small", "large", NULL };
static const char *const no_values[] = { NULL };

static const struct korpu_field good_fields[] = {
	{ "size", "Size", KORPU_FIELD_ENUM, 1, sizes, 0, 0 },
	{ "count", "Count", KORPU_FIELD_INTEGER, 0, NULL, 1, 9 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting good_settings[] = {
	{ "limit", KORPU_SETTING_INT, 0, 1, 10, NULL, "a limit" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

static const struct korpu_plugin good_desc = {
	KORPU_PLUGIN_V1,
	.name = "legalaid",
	.title = "Legal aid",
	.version = "0.1.0",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = good_fields,
	.settings = good_settings,
	.init = stub_init,
};

/* d, enabled as `enabled`, must be refused with a message containing needle. */
static void
assert_refused_as(const struct korpu_plugin *d, const char *enabled, const char *needle)
{
	struct errlist errs = { 0 };

	assert_int_equal(plugin_check_descriptor(d, enabled, &errs, "plugin here"), -1);
	assert_error(&errs, "plugin here", needle);
	errlist_free(&errs);
}

static void
assert_descriptor_refused(const struct korpu_plugin *d, const char *needle)
{
	assert_refused_as(d, "legalaid", needle);
}

static void
descriptor_good(void **state)
{
	struct errlist errs = { 0 };
	struct korpu_plugin d = good_desc;

	assert_int_equal(plugin_check_descriptor(&d, "legalaid", &errs, "here"), 0);
	assert_int_equal(errs.n, 0);
	/* No settings table at all is fine. */
	d.settings = NULL;
	assert_int_equal(plugin_check_descriptor(&d, "legalaid", &errs, "here"), 0);
	assert_int_equal(errs.n, 0);
}

static void
descriptor_bad_name(void **state)
{
	struct errlist errs = { 0 };
	struct korpu_plugin d = good_desc;

	/* Even enabled under that very name, a name must be [a-z][a-z0-9_]{0,31}. */
	d.name = "Legal-Aid";
	assert_refused_as(&d, "Legal-Aid", "descriptor name \"Legal-Aid\"");
	d.name = "9lives";
	assert_refused_as(&d, "9lives", "descriptor name \"9lives\"");
	d.name = "";
	assert_refused_as(&d, "", "descriptor name \"\"");
	d.name = "legal_aid_for_people_seeking_asyl";	/* 33 > 32 */
	assert_refused_as(&d, d.name, "descriptor name \"legal_aid_for_people");
	d.name = NULL;
	assert_descriptor_refused(&d, "descriptor name \"(null)\"");
	/* The longest name that is allowed. */
	d.name = "legal_aid_for_people_seeking_asy";
	assert_int_equal(strlen(d.name), 32);
	assert_int_equal(plugin_check_descriptor(&d, d.name, &errs, "w"), 0);
	assert_int_equal(errs.n, 0);
}

static void
descriptor_missing_init(void **state)
{
	struct korpu_plugin d = good_desc;

	d.init = NULL;
	assert_descriptor_refused(&d, "no init hook");
}

static void
descriptor_missing_title_or_version(void **state)
{
	struct korpu_plugin d = good_desc;

	d.title = "";
	assert_descriptor_refused(&d, "needs a title and a version");
	d = good_desc;
	d.version = NULL;
	assert_descriptor_refused(&d, "needs a title and a version");
}

static void
descriptor_enum_without_values(void **state)
{
	static const struct korpu_field empty_enum[] = {
		{ "size", "Size", KORPU_FIELD_ENUM, 1, no_values, 0, 0 },
		{ NULL, NULL, 0, 0, NULL, 0, 0 }
	};
	static const struct korpu_field null_enum[] = {
		{ "size", "Size", KORPU_FIELD_ENUM, 1, NULL, 0, 0 },
		{ NULL, NULL, 0, 0, NULL, 0, 0 }
	};
	struct korpu_plugin d = good_desc;

	d.fields = empty_enum;
	assert_descriptor_refused(&d, "enum field size lists no values");
	d.fields = null_enum;
	assert_descriptor_refused(&d, "enum field size lists no values");
}

static void
descriptor_duplicate_fields(void **state)
{
	static const struct korpu_field twice[] = {
		{ "count", "Count", KORPU_FIELD_INTEGER, 0, NULL, 1, 9 },
		{ "size", "Size", KORPU_FIELD_ENUM, 1, sizes, 0, 0 },
		{ "count", "Count again", KORPU_FIELD_STRING, 0, NULL, 0, 0 },
		{ NULL, NULL, 0, 0, NULL, 0, 0 }
	};
	struct korpu_plugin d = good_desc;

	d.fields = twice;
	assert_descriptor_refused(&d, "field count is declared twice");
}

static void
descriptor_bad_fields(void **state)
{
	static const struct korpu_field bad[] = {
		{ "Size", "Size", KORPU_FIELD_ENUM, 1, sizes, 0, 0 },
		{ "nolabel", NULL, KORPU_FIELD_STRING, 0, NULL, 0, 0 },
		{ "kind", "Kind", (enum korpu_field_type)99, 0, NULL, 0, 0 },
		{ "range", "Range", KORPU_FIELD_INTEGER, 0, NULL, 9, 1 },
		{ NULL, NULL, 0, 0, NULL, 0, 0 }
	};
	struct errlist errs = { 0 };
	struct korpu_plugin d = good_desc;

	d.fields = bad;
	assert_int_equal(plugin_check_descriptor(&d, "legalaid", &errs, "w"), -1);
	assert_int_equal(errs.n, 4);
	assert_error(&errs, "w", "field 0 has an invalid name");
	assert_error(&errs, "w", "field nolabel needs a label and a known type");
	assert_error(&errs, "w", "field kind needs a label and a known type");
	assert_error(&errs, "w", "integer field range has min > max");
	errlist_free(&errs);
}

static void
descriptor_unknown_booking_model(void **state)
{
	struct korpu_plugin d = good_desc;

	d.booking_model = (enum korpu_booking_model)9;
	assert_descriptor_refused(&d, "unknown booking model 9");
	d.booking_model = (enum korpu_booking_model)0;
	assert_descriptor_refused(&d, "unknown booking model 0");
}

static void
descriptor_bad_settings_table(void **state)
{
	static const struct korpu_setting bad[] = {
		{ "limit", KORPU_SETTING_INT, 0, 10, 1, NULL, "min above max" },
		{ "mode", (enum korpu_setting_type)7, 0, 0, 0, NULL, "no such type" },
		{ NULL, 0, 0, 0, 0, NULL, NULL }
	};
	struct errlist errs = { 0 };
	struct korpu_plugin d = good_desc;

	d.settings = bad;
	assert_int_equal(plugin_check_descriptor(&d, "legalaid", &errs, "w"), -1);
	assert_int_equal(errs.n, 2);
	assert_error(&errs, "w", "setting 0 (limit) is malformed");
	assert_error(&errs, "w", "setting 1 (mode) is malformed");
	errlist_free(&errs);
}

static void
descriptor_abi_and_size(void **state)
{
	struct errlist errs = { 0 };
	struct korpu_plugin d = good_desc;

	d.abi_major = 0;
	assert_int_equal(plugin_check_descriptor(&d, "legalaid", &errs, "w"), -1);
	/* A foreign ABI stops the check: nothing else of it can be trusted. */
	assert_int_equal(errs.n, 1);
	assert_error(&errs, "w", "does not match korpud's ABI " ABI_NOW);
	errlist_free(&errs);

	d = good_desc;
	d.struct_size = offsetof(struct korpu_plugin, reconfigure);
	assert_descriptor_refused(&d, "shorter than ABI 1.0");
}

static long long
an_hour(void *s)
{
	(void)s;
	return 3600;
}

/* A plugin built against ABI 1.1 (before offer_hold was appended) loads
 * into this korpud, and the hook beyond its struct_size counts as absent
 * even if the memory after its descriptor happens to hold something. */
static void
descriptor_of_an_older_minor(void **state)
{
	struct errlist errs = { 0 };
	struct korpu_plugin d = good_desc;

	d.abi_minor = 1;
	d.struct_size = offsetof(struct korpu_plugin, offer_hold);
	d.offer_hold = an_hour;		/* stands for whatever follows a 1.1 descriptor */
	assert_int_equal(plugin_check_descriptor(&d, "legalaid", &errs, "w"), 0);
	assert_int_equal(errs.n, 0);
	assert_null(PLUGIN_HOOK(&d, offer_hold));
	d.abi_minor = KORPU_ABI_MINOR;
	d.struct_size = sizeof(d);
	assert_ptr_equal(PLUGIN_HOOK(&d, offer_hold), an_hour);
}

static void
descriptor_all_problems_reported(void **state)
{
	struct errlist errs = { 0 };
	struct korpu_plugin d = good_desc;

	d.name = "other";
	d.init = NULL;
	d.booking_model = (enum korpu_booking_model)5;
	assert_int_equal(plugin_check_descriptor(&d, "legalaid", &errs, "w"), -1);
	assert_int_equal(errs.n, 3);
	assert_error(&errs, "w", "descriptor name \"other\"");
	assert_error(&errs, "w", "no init hook");
	assert_error(&errs, "w", "unknown booking model 5");
	errlist_free(&errs);
}

/* ---- plugin settings files, against the real schools plugin */

struct fixture {
	char *dir;
	struct plugin schools;
	struct conf_plugin cp;
	struct errlist errs;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tmpdir_new();
	assert_int_equal(plugin_open(PLUGIN_BUILD_DIR, "schools", &f->schools, &f->errs), 0);
	*state = f;
	return 0;
}

/* Frees what settings_load put in cp; its name is the caller's. */
static void
settings_unload(struct conf_plugin *cp)
{
	if (cp->cfg) {
		config_destroy(cp->cfg);
		free(cp->cfg);
	}
	free(cp->file);
	cp->cfg = NULL;
	cp->file = NULL;
	cp->group = NULL;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	settings_unload(&f->cp);
	plugin_release(&f->schools);
	errlist_free(&f->errs);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Writes cp->name.conf with text and parses it into cp, as conf_load does. */
static void
settings_load(struct conf_plugin *cp, const char *dir, const char *text)
{
	char file[64];

	settings_unload(cp);
	snprintf(file, sizeof(file), "%s.conf", cp->name);
	cp->file = tmp_write(dir, file, text);
	cp->cfg = calloc(1, sizeof(*cp->cfg));
	assert_non_null(cp->cfg);
	config_init(cp->cfg);
	if (config_read_file(cp->cfg, cp->file) != CONFIG_TRUE)
		fail_msg("%s:%d: %s", cp->file, config_error_line(cp->cfg),
		    config_error_text(cp->cfg));
	cp->group = config_root_setting(cp->cfg);
}

/* "FILE:LINE" of cp's file. */
static const char *
line_of(const struct conf_plugin *cp, unsigned line, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", cp->file, line);
	return buf;
}

static int
schools_settings(struct fixture *f, const char *text)
{
	f->cp.name = "schools";
	settings_load(&f->cp, f->dir, text);
	return plugin_check_settings(f->schools.desc, &f->cp, &f->errs);
}

static void
settings_good(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(schools_settings(f, "min_age = 5;\nmax_age = 18;\n"
	    "cutoff = \"09-15\";\nanswer_deadline_hours = 48;\n"), 0);
	assert_int_equal(f->errs.n, 0);
	assert_int_equal(schools_settings(f, "# everything at its default\n"), 0);
	assert_int_equal(f->errs.n, 0);
}

static void
settings_absent_file(void **state)
{
	struct fixture *f = *state;
	struct conf_plugin cp = { .name = "schools", .file = "plugins.d/schools.conf" };

	/* Nothing of schools' is required: no file is fine. */
	assert_int_equal(plugin_check_settings(f->schools.desc, &cp, &f->errs), 0);
	assert_int_equal(f->errs.n, 0);
}

static void
settings_required_missing(void **state)
{
	static const struct korpu_setting needs_token[] = {
		{ "token", KORPU_SETTING_STRING, 1, 1, 64, NULL, "API token" },
		{ NULL, 0, 0, 0, 0, NULL, NULL }
	};
	struct fixture *f = *state;
	struct korpu_plugin d = good_desc;
	struct conf_plugin cp = { .name = "legalaid", .file = "plugins.d/legalaid.conf" };
	char where[600];

	d.settings = needs_token;
	assert_int_equal(plugin_check_settings(&d, &cp, &f->errs), -1);
	assert_error(&f->errs, "plugins.d/legalaid.conf", "plugin legalaid requires setting token");

	errlist_free(&f->errs);
	f->cp.name = "legalaid";
	settings_load(&f->cp, f->dir, "\n# no token\nother = 1;\n");
	assert_int_equal(plugin_check_settings(&d, &f->cp, &f->errs), -1);
	assert_error(&f->errs, NULL, "missing required key legalaid.token");
	assert_error(&f->errs, line_of(&f->cp, 3, where, sizeof(where)), "unknown key legalaid.other");
}

static void
settings_unknown_key(void **state)
{
	struct fixture *f = *state;
	char where[600];

	assert_int_equal(schools_settings(f, "min_age = 5;\nmax_aeg = 18;\n"), -1);
	assert_int_equal(f->errs.n, 1);
	assert_error(&f->errs, line_of(&f->cp, 2, where, sizeof(where)),
	    "unknown key schools.max_aeg (did you mean max_age?)");
}

static void
settings_out_of_range(void **state)
{
	struct fixture *f = *state;
	char where[600];

	assert_int_equal(schools_settings(f, "min_age = 5;\n\nmax_age = 30;\n"), -1);
	assert_error(&f->errs, line_of(&f->cp, 3, where, sizeof(where)),
	    "schools.max_age = 30 is out of range (3 to 21)");

	errlist_free(&f->errs);
	assert_int_equal(schools_settings(f, "answer_deadline_hours = 0;\n"), -1);
	assert_error(&f->errs, line_of(&f->cp, 1, where, sizeof(where)),
	    "schools.answer_deadline_hours = 0 is out of range (1 to 720)");

	/* A string's range is its length. */
	errlist_free(&f->errs);
	assert_int_equal(schools_settings(f, "cutoff = \"9-1\";\n"), -1);
	assert_error(&f->errs, line_of(&f->cp, 1, where, sizeof(where)),
	    "schools.cutoff must be 5 to 5 characters long");
}

static void
settings_wrong_type(void **state)
{
	struct fixture *f = *state;
	char where[600];

	assert_int_equal(schools_settings(f, "min_age = \"six\";\n"), -1);
	assert_error(&f->errs, line_of(&f->cp, 1, where, sizeof(where)),
	    "schools.min_age must be an integer");

	errlist_free(&f->errs);
	assert_int_equal(schools_settings(f, "max_age = 17;\ncutoff = 901;\n"), -1);
	assert_error(&f->errs, line_of(&f->cp, 2, where, sizeof(where)),
	    "schools.cutoff must be a string");
}

static void
settings_all_problems_reported(void **state)
{
	struct fixture *f = *state;
	char where[600];

	assert_int_equal(schools_settings(f, "min_age = 1;\nmax_age = true;\n"
	    "colour = \"red\";\n"), -1);
	assert_int_equal(f->errs.n, 3);
	assert_error(&f->errs, line_of(&f->cp, 1, where, sizeof(where)), "schools.min_age = 1");
	assert_error(&f->errs, line_of(&f->cp, 2, where, sizeof(where)), "schools.max_age must be");
	assert_error(&f->errs, line_of(&f->cp, 3, where, sizeof(where)), "unknown key schools.colour");
}

/* ---- plugins_open_all over a hand-made struct conf */

static void
conf_add(struct conf *c, const char *name)
{
	struct conf_plugin *cp = &c->plugin_conf[c->n_plugin_conf++];

	cp->name = strdup(name);
	assert_non_null(cp->name);
}

static void
conf_release(struct conf *c)
{
	for (size_t i = 0; i < c->n_plugin_conf; i++) {
		settings_unload(&c->plugin_conf[i]);
		free(c->plugin_conf[i].name);
	}
	free(c->plugin_conf);
	free(c->plugins.dir);
}

static void
open_all_real(void **state)
{
	static const char *const names[] = { "employment", "schools", "clinics", "housing",
	    "integration" };
	struct fixture *f = *state;
	struct conf c = { 0 };
	struct plugin_set set = { 0 };

	c.plugins.dir = strdup(PLUGIN_BUILD_DIR);
	c.plugin_conf = calloc(5, sizeof(*c.plugin_conf));
	assert_non_null(c.plugin_conf);
	for (size_t i = 0; i < 5; i++)
		conf_add(&c, names[i]);
	settings_load(&c.plugin_conf[1], f->dir, "max_age = 18;\n");

	assert_int_equal(plugins_open_all(&c, &set, &f->errs), 0);
	assert_int_equal(f->errs.n, 0);
	assert_int_equal(set.n, 5);
	for (size_t i = 0; i < 5; i++) {
		const struct plugin *p = plugins_find(&set, names[i]);
		assert_non_null(p);
		assert_non_null(p->desc);
		assert_string_equal(p->desc->name, names[i]);
	}
	assert_null(plugins_find(&set, "gardens"));
	plugins_close_all(&set);
	assert_int_equal(set.n, 0);
	assert_null(set.v);
	conf_release(&c);
}

static void
open_all_reports_every_plugin(void **state)
{
	struct fixture *f = *state;
	struct conf c = { 0 };
	struct plugin_set set = { 0 };
	char where[600];

	c.plugins.dir = strdup(PLUGIN_BUILD_DIR);
	c.plugin_conf = calloc(3, sizeof(*c.plugin_conf));
	assert_non_null(c.plugin_conf);
	conf_add(&c, "gardens");
	conf_add(&c, "schools");
	conf_add(&c, "housing");
	settings_load(&c.plugin_conf[1], f->dir, "min_age = 99;\n");

	assert_int_equal(plugins_open_all(&c, &set, &f->errs), -1);
	assert_int_equal(f->errs.n, 2);
	assert_error(&f->errs, NULL, "cannot load");
	assert_error(&f->errs, line_of(&c.plugin_conf[1], 1, where, sizeof(where)),
	    "schools.min_age = 99 is out of range");
	/* The ones that opened are still there, to be closed. */
	assert_null(plugins_find(&set, "gardens"));
	assert_non_null(plugins_find(&set, "schools"));
	assert_non_null(plugins_find(&set, "housing"));
	plugins_close_all(&set);
	conf_release(&c);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plugin_real_ones_open),
		cmocka_unit_test(plugin_wrong_abi_refused),
		cmocka_unit_test(plugin_newer_minor_refused),
		cmocka_unit_test(plugin_init_fails_opens),
		cmocka_unit_test(plugin_missing_file_refused),
		cmocka_unit_test(plugin_without_descriptor_refused),
		cmocka_unit_test(plugin_enabled_under_other_name_refused),
		cmocka_unit_test(descriptor_good),
		cmocka_unit_test(descriptor_bad_name),
		cmocka_unit_test(descriptor_missing_init),
		cmocka_unit_test(descriptor_missing_title_or_version),
		cmocka_unit_test(descriptor_enum_without_values),
		cmocka_unit_test(descriptor_duplicate_fields),
		cmocka_unit_test(descriptor_bad_fields),
		cmocka_unit_test(descriptor_unknown_booking_model),
		cmocka_unit_test(descriptor_bad_settings_table),
		cmocka_unit_test(descriptor_abi_and_size),
		cmocka_unit_test(descriptor_of_an_older_minor),
		cmocka_unit_test(descriptor_all_problems_reported),
		T(settings_good),
		T(settings_absent_file),
		T(settings_required_missing),
		T(settings_unknown_key),
		T(settings_out_of_range),
		T(settings_wrong_type),
		T(settings_all_problems_reported),
		T(open_all_real),
		T(open_all_reports_every_plugin),
	};

	return cmocka_run_group_tests_name("plugin-load", tests, NULL, NULL);
}
