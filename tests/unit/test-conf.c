/*
 * test-conf.c - conf_load() on a good korpud.conf and on broken ones.
 * Each broken file differs from the good one by one edit; the error must
 * name "FILE:LINE" of the culprit and say what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"
#include "util.h"

static const char good_conf[] =
	"# korpud.conf for the unit tests\n"
	"listen = [ \"127.0.0.1:8080\", \"[::1]:0\" ];\n"
	"redis = {\n"
	"  host = \"127.0.0.1\";\n"
	"  port = 6380;\n"
	"  password_file = \"redis.secret\";\n"
	"  reconnect_min_ms = 200;\n"
	"  reconnect_max_ms = 4000;\n"
	"};\n"
	"ldap = {\n"
	"  uri = \"ldap://127.0.0.1:389\";\n"
	"  bind_dn = \"cn=korpu,ou=services,dc=korpu,dc=example\";\n"
	"  bind_password_file = \"ldap.secret\";\n"
	"  base_dn = \"ou=people,dc=korpu,dc=example\";\n"
	"  user_filter = \"(uid=%s)\";\n"
	"  roles = {\n"
	"    caseworker = \"cn=caseworkers,ou=groups,dc=korpu,dc=example\";\n"
	"    provider = \"cn=providers,ou=groups,dc=korpu,dc=example\";\n"
	"    supervisor = \"cn=supervisors,ou=groups,dc=korpu,dc=example\";\n"
	"    admin = \"cn=admins,ou=groups,dc=korpu,dc=example\";\n"
	"  };\n"
	"};\n"
	"web = {\n"
	"  root = \"web\";\n"
	"};\n"
	"plugins = {\n"
	"  dir = \"plugins\";\n"
	"  enabled = [ \"schools\", \"housing\" ];\n"
	"};\n";

/* One temporary folder per test, holding korpud.conf and what it names. */
struct fixture {
	char *dir;
	char *path;
	char *text;		/* what korpud.conf holds */
	char where[600];	/* "FILE:LINE", built by at() */
	struct errlist errs;
	struct conf *conf;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tmpdir_new();
	f->path = path_join(f->dir, "korpud.conf");
	tmp_mkdir(f->dir, "web");
	tmp_mkdir(f->dir, "plugins");
	tmp_mkdir(f->dir, "plugins.d");
	free(tmp_write(f->dir, "ldap.secret", "s3cret\n"));
	free(tmp_write(f->dir, "redis.secret", "r3dis"));
	free(tmp_write(f->dir, "plugins.d/schools.conf", "min_age = 5;\n"));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	conf_free(f->conf);
	errlist_free(&f->errs);
	free(f->text);
	free(f->path);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Writes text as korpud.conf and loads it. */
static struct conf *
load(struct fixture *f, const char *text)
{
	free(f->text);
	f->text = strdup(text);
	assert_non_null(f->text);
	free(tmp_write(f->dir, "korpud.conf", text));
	conf_free(f->conf);
	f->conf = conf_load(f->path, &f->errs);
	return f->conf;
}

/* text with its first `from` replaced by `to`. */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out = NULL;

	if (at == NULL)
		fail_msg("\"%s\" is not in the config", from);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to,
	    at + strlen(from)) > 0);
	return out;
}

/* Loads the good config with one edit; the result must be refused. */
static void
load_bad(struct fixture *f, const char *from, const char *to)
{
	char *text = replace(good_conf, from, to);

	assert_null(load(f, text));
	assert_true(f->errs.n > 0);
	free(text);
}

/* "FILE:LINE" of the first line of the loaded text containing needle. */
static const char *
at(struct fixture *f, const char *needle)
{
	const char *hit = strstr(f->text, needle);
	unsigned line = 1;

	if (hit == NULL)
		fail_msg("\"%s\" is not in the config", needle);
	for (const char *p = f->text; p < hit; p++)
		line += *p == '\n';
	snprintf(f->where, sizeof(f->where), "%s:%u", f->path, line);
	return f->where;
}

static void
conf_good_loads(void **state)
{
	struct fixture *f = *state;
	struct conf *c = load(f, good_conf);

	assert_non_null(c);
	assert_int_equal(f->errs.n, 0);
	assert_string_equal(c->path, f->path);
	assert_int_equal(c->listen.n, 2);
	assert_string_equal(c->listen.v[0], "127.0.0.1:8080");
	assert_string_equal(c->listen.v[1], "[::1]:0");
	assert_string_equal(c->redis.host, "127.0.0.1");
	assert_int_equal(c->redis.port, 6380);
	assert_int_equal(c->redis.reconnect_min_ms, 200);
	assert_int_equal(c->redis.reconnect_max_ms, 4000);
	assert_string_equal(c->redis.password, "r3dis");
	/* The trailing newline of a secret file is not part of the secret. */
	assert_string_equal(c->ldap.bind_password, "s3cret");
	assert_string_equal(c->ldap.uri, "ldap://127.0.0.1:389");
	assert_string_equal(c->ldap.base_dn, "ou=people,dc=korpu,dc=example");
	assert_string_equal(c->ldap.role_admin, "cn=admins,ou=groups,dc=korpu,dc=example");
	assert_int_equal(c->plugins.enabled.n, 2);
	assert_string_equal(c->plugins.enabled.v[0], "schools");
	assert_string_equal(c->plugins.enabled.v[1], "housing");
}

static void
conf_defaults_apply(void **state)
{
	struct fixture *f = *state;
	struct conf *c = load(f, good_conf);

	assert_non_null(c);
	assert_string_equal(c->log.level, "info");
	assert_string_equal(c->log.target, "stderr");
	assert_int_equal(c->limits.body_max, 65536);
	assert_int_equal(c->limits.connections_max, 1024);
	assert_int_equal(c->redis.db, 0);
	assert_null(c->redis.socket);
	assert_int_equal(c->redis.command_timeout_ms, 1000);
	assert_false(c->ldap.starttls);
	assert_null(c->ldap.ca_file);
	assert_string_equal(c->ldap.organization_attribute, "o");
	assert_int_equal(c->ldap.pool_size, 4);
	assert_int_equal(c->sessions.idle_timeout_s, 1800);
	assert_int_equal(c->sessions.lifetime_s, 43200);
	assert_false(c->sessions.cookie_secure);
}

static void
conf_relative_paths_resolved(void **state)
{
	struct fixture *f = *state;
	struct conf *c = load(f, good_conf);
	const struct conf_plugin *schools, *housing;
	char *want;

	assert_non_null(c);
	want = path_join(f->dir, "web");
	assert_string_equal(c->web.root, want);
	free(want);
	want = path_join(f->dir, "plugins");
	assert_string_equal(c->plugins.dir, want);
	free(want);
	want = path_join(f->dir, "plugins.d");
	assert_string_equal(c->plugins.conf_dir, want);
	free(want);
	want = path_join(f->dir, "ldap.secret");
	assert_string_equal(c->ldap.bind_password_file, want);
	free(want);

	/* One file per enabled plugin, read when it exists. */
	assert_int_equal(c->n_plugin_conf, 2);
	schools = conf_plugin_find(c, "schools");
	housing = conf_plugin_find(c, "housing");
	assert_non_null(schools);
	assert_non_null(housing);
	assert_null(conf_plugin_find(c, "clinics"));
	want = path_join(f->dir, "plugins.d/schools.conf");
	assert_string_equal(schools->file, want);
	free(want);
	assert_non_null(schools->cfg);
	assert_non_null(config_setting_get_member(schools->group, "min_age"));
	assert_null(housing->cfg);
	assert_null(housing->group);
}

static void
conf_missing_file(void **state)
{
	struct fixture *f = *state;
	char *path = path_join(f->dir, "absent.conf");

	assert_null(conf_load(path, &f->errs));
	assert_error(&f->errs, path, "cannot read the file");
	free(path);
}

static void
conf_syntax_error_line(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  port = 6380;", "  port = = 6380;");
	assert_int_equal(f->errs.n, 1);
	assert_error(&f->errs, at(f, "port = = 6380"), "syntax error");
}

static void
conf_unknown_key(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "web = {", "colour = \"blue\";\nweb = {");
	assert_error(&f->errs, at(f, "colour"), "unknown key colour");
}

static void
conf_unknown_key_in_group_suggests(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  port = 6380;", "  prot = 6380;");
	assert_error(&f->errs, at(f, "prot ="), "unknown key redis.prot (did you mean port?)");

	/* Two levels down, too. */
	errlist_free(&f->errs);
	load_bad(f, "    admin =", "    admins =");
	assert_error(&f->errs, at(f, "admins ="), "unknown key ldap.roles.admins (did you mean admin?)");
}

static void
conf_wrong_type(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  port = 6380;", "  port = \"6380\";");
	assert_error(&f->errs, at(f, "port ="), "redis.port must be an integer");

	errlist_free(&f->errs);
	load_bad(f, "  root = \"web\";", "  root = 5;");
	assert_error(&f->errs, at(f, "root ="), "web.root must be a string");

	errlist_free(&f->errs);
	load_bad(f, "  enabled = [ \"schools\", \"housing\" ];", "  enabled = \"schools\";");
	assert_error(&f->errs, at(f, "enabled ="), "plugins.enabled must be a list of strings");
}

static void
conf_int_out_of_range(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  port = 6380;", "  port = 70000;");
	assert_error(&f->errs, at(f, "port ="), "redis.port = 70000 is out of range (1 to 65535)");

	errlist_free(&f->errs);
	load_bad(f, "  port = 6380;", "  port = 0;");
	assert_error(&f->errs, at(f, "port ="), "redis.port = 0 is out of range");
}

static void
conf_missing_required_key(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  base_dn = \"ou=people,dc=korpu,dc=example\";\n", "");
	/* The group that lacks it is named by its own line. */
	assert_error(&f->errs, at(f, "ldap = {"), "missing required key ldap.base_dn");

	errlist_free(&f->errs);
	load_bad(f, "  dir = \"plugins\";\n", "");
	assert_error(&f->errs, at(f, "plugins = {"), "missing required key plugins.dir");
}

static void
conf_missing_required_group(void **state)
{
	struct fixture *f = *state;

	/* A missing top-level group has no line of its own: the file is named. */
	load_bad(f, "web = {\n  root = \"web\";\n};\n", "");
	assert_error(&f->errs, f->path, "missing required key web");

	errlist_free(&f->errs);
	load_bad(f, "  roles = {", "  groups = {");
	assert_error(&f->errs, at(f, "ldap = {"), "missing required key ldap.roles");
}

static void
conf_bad_listen_address(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "\"[::1]:0\"", "\"localhost:8080\"");
	assert_error(&f->errs, at(f, "listen ="), "listen: \"localhost:8080\" is not an address:port");

	errlist_free(&f->errs);
	load_bad(f, "\"[::1]:0\"", "\"127.0.0.1:65536\"");
	assert_error(&f->errs, at(f, "listen ="), "\"127.0.0.1:65536\" is not an address:port");
}

static void
conf_redis_host_not_numeric(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  host = \"127.0.0.1\";", "  host = \"redis.example\";");
	assert_error(&f->errs, at(f, "host ="), "redis.host: \"redis.example\" must be a numeric IP address");
}

static void
conf_redis_host_ipv6(void **state)
{
	struct fixture *f = *state;
	char *text = replace(good_conf, "  host = \"127.0.0.1\";", "  host = \"::1\";");

	assert_non_null(load(f, text));
	assert_string_equal(f->conf->redis.host, "::1");
	free(text);
}

static void
conf_reconnect_min_above_max(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  reconnect_min_ms = 200;", "  reconnect_min_ms = 5000;");
	assert_error(&f->errs, at(f, "reconnect_min_ms ="),
	    "redis.reconnect_min_ms (5000) is larger than redis.reconnect_max_ms (4000)");
}

static void
conf_password_file_unreadable(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "\"redis.secret\"", "\"absent.secret\"");
	assert_error(&f->errs, at(f, "password_file ="), "redis.password_file: cannot read");
	assert_error(&f->errs, at(f, "password_file ="), "absent.secret");
}

static void
conf_password_file_empty(void **state)
{
	struct fixture *f = *state;

	free(tmp_write(f->dir, "ldap.secret", "\n"));
	load_bad(f, "", "");
	assert_error(&f->errs, at(f, "bind_password_file ="), "ldap.bind_password_file:");
	assert_error(&f->errs, at(f, "bind_password_file ="), "ldap.secret is empty");
}

static void
conf_invalid_dn(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "\"cn=korpu,ou=services,dc=korpu,dc=example\"", "\"korpu service\"");
	assert_error(&f->errs, at(f, "bind_dn ="), "ldap.bind_dn: \"korpu service\" is not a valid LDAP DN");

	errlist_free(&f->errs);
	load_bad(f, "\"cn=providers,ou=groups,dc=korpu,dc=example\"", "\"cn=providers,,\"");
	assert_error(&f->errs, at(f, "provider ="), "ldap.roles.provider: \"cn=providers,,\" is not a valid LDAP DN");
}

static void
conf_user_filter_without_placeholder(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "\"(uid=%s)\"", "\"(uid=admin)\"");
	assert_error(&f->errs, at(f, "user_filter ="), "exactly one %s");

	errlist_free(&f->errs);
	load_bad(f, "\"(uid=%s)\"", "\"(|(uid=%s)(mail=%s))\"");
	assert_error(&f->errs, at(f, "user_filter ="), "ldap.user_filter:");
}

static void
conf_invalid_plugin_name(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "\"housing\" ]", "\"../housing\" ]");
	assert_error(&f->errs, at(f, "enabled ="), "plugins.enabled: \"../housing\" is not a plugin name");

	errlist_free(&f->errs);
	load_bad(f, "\"housing\" ]", "\"Housing\" ]");
	assert_error(&f->errs, at(f, "enabled ="), "\"Housing\" is not a plugin name");

	/* Letters, digits and '_', but a letter first. */
	errlist_free(&f->errs);
	load_bad(f, "\"housing\" ]", "\"9lives\" ]");
	assert_error(&f->errs, at(f, "enabled ="), "\"9lives\" is not a plugin name");
}

static void
conf_duplicate_list_entry(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "\"housing\" ]", "\"schools\" ]");
	assert_error(&f->errs, at(f, "enabled ="), "plugins.enabled lists \"schools\" twice");

	errlist_free(&f->errs);
	load_bad(f, "\"[::1]:0\"", "\"127.0.0.1:8080\"");
	assert_error(&f->errs, at(f, "listen ="), "listen lists \"127.0.0.1:8080\" twice");
}

static void
conf_dir_missing(void **state)
{
	struct fixture *f = *state;

	load_bad(f, "  root = \"web\";", "  root = \"www\";");
	assert_error(&f->errs, at(f, "root ="), "web.root:");
	assert_error(&f->errs, at(f, "root ="), "is not a readable directory");

	/* A file is not a folder. */
	errlist_free(&f->errs);
	load_bad(f, "  dir = \"plugins\";", "  dir = \"ldap.secret\";");
	assert_error(&f->errs, at(f, "dir ="), "plugins.dir:");
}

static void
conf_plugin_file_syntax_error(void **state)
{
	struct fixture *f = *state;
	char *where = NULL;

	free(tmp_write(f->dir, "plugins.d/schools.conf", "min_age = 5;\nmax_age = ;\n"));
	load_bad(f, "", "");
	assert_true(asprintf(&where, "%s/plugins.d/schools.conf:2", f->dir) > 0);
	assert_error(&f->errs, where, "syntax error");
	free(where);
}

/* Every problem of the schema pass, in different groups, at once. */
static void
conf_all_schema_problems_reported(void **state)
{
	struct fixture *f = *state;
	char *t1 = replace(good_conf, "  port = 6380;", "  prot = 6380;");
	char *t2 = replace(t1, "  reconnect_max_ms = 4000;", "  reconnect_max_ms = \"4s\";");
	char *t3 = replace(t2, "  root = \"web\";", "  root = \"\";");

	assert_null(load(f, t3));
	assert_int_equal(f->errs.n, 3);
	assert_error(&f->errs, at(f, "prot ="), "unknown key redis.prot");
	assert_error(&f->errs, at(f, "reconnect_max_ms ="), "redis.reconnect_max_ms must be an integer");
	assert_error(&f->errs, at(f, "root ="), "web.root must not be empty");
	free(t1);
	free(t2);
	free(t3);
}

/* Every problem of the checks that tie values together, at once. */
static void
conf_all_semantic_problems_reported(void **state)
{
	struct fixture *f = *state;
	char *t1 = replace(good_conf, "\"[::1]:0\"", "\"nowhere\"");
	char *t2 = replace(t1, "  host = \"127.0.0.1\";", "  host = \"redis\";");
	char *t3 = replace(t2, "\"ou=people,dc=korpu,dc=example\"", "\"people\"");
	char *t4 = replace(t3, "  dir = \"plugins\";", "  dir = \"no-plugins\";");

	assert_null(load(f, t4));
	assert_int_equal(f->errs.n, 4);
	assert_error(&f->errs, at(f, "listen ="), "\"nowhere\"");
	assert_error(&f->errs, at(f, "host ="), "redis.host");
	assert_error(&f->errs, at(f, "base_dn ="), "ldap.base_dn");
	assert_error(&f->errs, at(f, "dir ="), "plugins.dir");
	free(t1);
	free(t2);
	free(t3);
	free(t4);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(conf_good_loads),
		T(conf_defaults_apply),
		T(conf_relative_paths_resolved),
		T(conf_missing_file),
		T(conf_syntax_error_line),
		T(conf_unknown_key),
		T(conf_unknown_key_in_group_suggests),
		T(conf_wrong_type),
		T(conf_int_out_of_range),
		T(conf_missing_required_key),
		T(conf_missing_required_group),
		T(conf_bad_listen_address),
		T(conf_redis_host_not_numeric),
		T(conf_redis_host_ipv6),
		T(conf_reconnect_min_above_max),
		T(conf_password_file_unreadable),
		T(conf_password_file_empty),
		T(conf_invalid_dn),
		T(conf_user_filter_without_placeholder),
		T(conf_invalid_plugin_name),
		T(conf_duplicate_list_entry),
		T(conf_dir_missing),
		T(conf_plugin_file_syntax_error),
		T(conf_all_schema_problems_reported),
		T(conf_all_semantic_problems_reported),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
