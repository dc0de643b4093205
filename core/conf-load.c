/*
 * conf-load.c - reads korpud.conf and the enabled plugins' files in
 * plugins.d into one struct conf, checking everything that can be checked
 * without starting anything: types and ranges (conf-check.c), then what
 * ties values together (addresses parse, files exist, DNs are DNs).
 * Nothing here touches the running daemon, so a reload can run it off the
 * event loop and throw the result away when it is bad.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/util.h>
#include <ldap.h>

#include "korpud.h"

/* A path from the config, relative to the config file's folder. */
static char *
path_resolve(const char *confdir, const char *p)
{
	char *out = NULL;

	if (p == NULL)
		return NULL;
	if (p[0] == '/')
		return strdup(p);
	if (asprintf(&out, "%s/%s", confdir, p) < 0)
		return NULL;
	return out;
}

static void
replace_resolved(char **field, const char *confdir)
{
	char *r;

	if (*field == NULL || **field == '\0')
		return;
	r = path_resolve(confdir, *field);
	free(*field);
	*field = r;
}

static const config_setting_t *
setting_at(const config_t *cfg, const char *path)
{
	return config_lookup((config_t *)cfg, path);
}

static const char *
where_of(const config_t *cfg, const char *path, char *buf, size_t len)
{
	const config_setting_t *s = setting_at(cfg, path);

	if (s == NULL)
		s = config_root_setting(cfg);
	return conf_where(s, buf, len);
}

/* Reads a secret from a one-line file; the trailing newline is dropped. */
static char *
secret_read(const char *path, const char *key, const char *where, struct errlist *errs)
{
	char buf[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		errlist_add(errs, where, "%s: cannot read %s: %s", key, path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		errlist_add(errs, where, "%s: %s is empty", key, path);
		return NULL;
	}
	return strdup(buf);
}

static int
need_dir(const config_t *cfg, const char *key, const char *path, struct errlist *errs)
{
	struct stat st;
	char where[512];

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	errlist_add(errs, where_of(cfg, key, where, sizeof(where)),
	    "%s: %s is not a readable directory", key, path);
	return -1;
}

static void
need_dn(const config_t *cfg, const char *key, const char *dn, struct errlist *errs)
{
	LDAPDN parsed = NULL;
	char where[512];

	if (dn == NULL)
		return;
	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || parsed == NULL)
		errlist_add(errs, where_of(cfg, key, where, sizeof(where)),
		    "%s: \"%s\" is not a valid LDAP DN", key, dn);
	if (parsed)
		ldap_dnfree(parsed);
}

/* A plugin or area name: it becomes a file name and a key part. */
static int
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static void
check_listen(const struct conf *c, struct errlist *errs)
{
	char where[512];

	for (size_t i = 0; i < c->listen.n; i++) {
		const char *a = c->listen.v[i];
		char host[64];
		unsigned port;

		if (addr_parse(a, host, sizeof(host), &port) < 0)
			errlist_add(errs, where_of(c->cfg, "listen", where, sizeof(where)),
			    "listen: \"%s\" is not an address:port (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")", a);
	}
}

static void
check_proxies(const struct conf *c, struct errlist *errs)
{
	char where[512];

	for (size_t i = 0; i < c->limits.trusted_proxies.n; i++)
		if (!addr_is_ip(c->limits.trusted_proxies.v[i]))
			errlist_add(errs, where_of(c->cfg, "limits.trusted_proxies", where, sizeof(where)),
			    "limits.trusted_proxies: \"%s\" is not a numeric IP address",
			    c->limits.trusted_proxies.v[i]);
}

/* A region slug becomes part of Redis keys and object ids. */
static int
region_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static void
check_regions(struct conf *c, struct errlist *errs)
{
	char where[512];

	for (size_t i = 0; i < c->regions.n; i++) {
		if (!region_valid(c->regions.v[i]))
			errlist_add(errs, where_of(c->cfg, "regions", where, sizeof(where)),
			    "regions: \"%s\" is not a region name (a-z, 0-9 and '-', "
			    "starting with a letter, at most 32)", c->regions.v[i]);
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->regions.v[i], c->regions.v[k]) == 0)
				errlist_add(errs, where_of(c->cfg, "regions", where, sizeof(where)),
				    "regions: \"%s\" is listed twice", c->regions.v[i]);
	}
	if (c->regions.n == 0) {
		c->regions.v = calloc(1, sizeof(char *));
		if (c->regions.v && (c->regions.v[0] = strdup("main")) != NULL)
			c->regions.n = 1;
	}
}

/* Who may scrape /metrics: numeric addresses; loopback when not set (an
 * empty list: nobody). */
static void
check_metrics(struct conf *c, struct errlist *errs)
{
	static const char *const loopback[] = { "127.0.0.1", "::1" };
	char where[512];

	for (size_t i = 0; i < c->metrics.allow.n; i++)
		if (!addr_is_ip(c->metrics.allow.v[i]))
			errlist_add(errs, where_of(c->cfg, "metrics.allow", where, sizeof(where)),
			    "metrics.allow: \"%s\" is not a numeric IP address", c->metrics.allow.v[i]);
	if (config_lookup(c->cfg, "metrics.allow") != NULL)
		return;
	c->metrics.allow.v = calloc(2, sizeof(char *));
	for (size_t i = 0; c->metrics.allow.v && i < 2; i++)
		if ((c->metrics.allow.v[c->metrics.allow.n] = strdup(loopback[i])) != NULL)
			c->metrics.allow.n++;
}

int
conf_region_known(const struct conf *c, const char *region)
{
	return region != NULL && strlist_has(&c->regions, region);
}

/* An area's answer deadline: its own file's answer_deadline_hours, or
 * the referrals group's. */
long long
conf_answer_deadline_hours(const struct conf *c, const char *area)
{
	const struct conf_plugin *cp = conf_plugin_find(c, area);
	long long long_v;

	if (cp && cp->group &&
	    config_setting_lookup_int64(cp->group, CONF_AREA_DEADLINE, &long_v) == CONFIG_TRUE)
		return long_v;
	return c->referrals.answer_deadline_hours;
}

/* "24h", "90m", "2d": a lead time in ms, or -1. */
static long long
duration_ms(const char *s)
{
	char *end;
	long long n = strtoll(s, &end, 10);

	if (end == s || n <= 0 || n > 100000 || end[1] != '\0')
		return -1;
	switch (*end) {
	case 'm': return n * 60000;
	case 'h': return n * 3600000;
	case 'd': return n * 86400000;
	}
	return -1;
}

static void
check_reminders(struct conf *c, struct errlist *errs)
{
	char where[512];

	if (c->appointments.reminders.v == NULL && config_lookup(c->cfg, "appointments.reminders") == NULL) {
		/* Not configured: a day and two hours before. */
		c->appointments.reminder_ms[0] = 86400000;
		c->appointments.reminder_ms[1] = 7200000;
		c->appointments.n_reminders = 2;
		return;
	}
	for (size_t i = 0; i < c->appointments.reminders.n && i < 8; i++) {
		long long ms = duration_ms(c->appointments.reminders.v[i]);
		if (ms < 0)
			errlist_add(errs, where_of(c->cfg, "appointments.reminders", where, sizeof(where)),
			    "appointments.reminders: \"%s\" is not a lead time such as \"24h\", "
			    "\"90m\" or \"2d\"", c->appointments.reminders.v[i]);
		else
			c->appointments.reminder_ms[c->appointments.n_reminders++] = ms;
	}
}

static void
check_redis(struct conf *c, const char *confdir, struct errlist *errs)
{
	char where[512];
	struct conf_redis *r = &c->redis;

	/* A host name would make hiredis resolve it with getaddrinfo(), which
	 * blocks the event loop: only numeric addresses are accepted. */
	if (r->socket == NULL || *r->socket == '\0') {
		char probe[300], host[64];
		unsigned port;
		snprintf(probe, sizeof(probe), "%s%s%s:1", strchr(r->host, ':') ? "[" : "",
		    r->host, strchr(r->host, ':') ? "]" : "");
		if (addr_parse(probe, host, sizeof(host), &port) < 0)
			errlist_add(errs, where_of(c->cfg, "redis.host", where, sizeof(where)),
			    "redis.host: \"%s\" must be a numeric IP address (resolving a name would block korpud)",
			    r->host);
	}
	if (r->reconnect_min_ms > r->reconnect_max_ms)
		errlist_add(errs, where_of(c->cfg, "redis.reconnect_min_ms", where, sizeof(where)),
		    "redis.reconnect_min_ms (%lld) is larger than redis.reconnect_max_ms (%lld)",
		    r->reconnect_min_ms, r->reconnect_max_ms);
	if (r->socket && *r->socket == '\0') {
		free(r->socket);
		r->socket = NULL;
	}
	replace_resolved(&r->socket, confdir);
	replace_resolved(&r->password_file, confdir);
	if (r->password_file && *r->password_file)
		r->password = secret_read(r->password_file, "redis.password_file",
		    where_of(c->cfg, "redis.password_file", where, sizeof(where)), errs);
}

static void
check_ldap(struct conf *c, const char *confdir, struct errlist *errs)
{
	char where[512];
	struct conf_ldap *l = &c->ldap;
	const char *pct;

	if (strncmp(l->uri, "ldap://", 7) != 0 && strncmp(l->uri, "ldaps://", 8) != 0)
		errlist_add(errs, where_of(c->cfg, "ldap.uri", where, sizeof(where)),
		    "ldap.uri: \"%s\" must start with ldap:// or ldaps://", l->uri);
	else if (ldap_is_ldap_url(l->uri) == 0 && ldap_is_ldaps_url(l->uri) == 0)
		errlist_add(errs, where_of(c->cfg, "ldap.uri", where, sizeof(where)),
		    "ldap.uri: \"%s\" is not a valid LDAP URI", l->uri);
	if (l->starttls && strncmp(l->uri, "ldaps://", 8) == 0)
		errlist_add(errs, where_of(c->cfg, "ldap.starttls", where, sizeof(where)),
		    "ldap.starttls: StartTLS cannot be used on an ldaps:// connection");
	pct = strstr(l->user_filter, "%s");
	if (l->user_filter[0] != '(' || pct == NULL || strstr(pct + 2, "%s") != NULL ||
	    strchr(l->user_filter, '%') != pct)
		errlist_add(errs, where_of(c->cfg, "ldap.user_filter", where, sizeof(where)),
		    "ldap.user_filter: \"%s\" must be a parenthesised filter with exactly one %%s",
		    l->user_filter);
	need_dn(c->cfg, "ldap.bind_dn", l->bind_dn, errs);
	need_dn(c->cfg, "ldap.base_dn", l->base_dn, errs);
	need_dn(c->cfg, "ldap.roles.caseworker", l->role_caseworker, errs);
	need_dn(c->cfg, "ldap.roles.provider", l->role_provider, errs);
	need_dn(c->cfg, "ldap.roles.supervisor", l->role_supervisor, errs);
	need_dn(c->cfg, "ldap.roles.admin", l->role_admin, errs);
	replace_resolved(&l->ca_file, confdir);
	if (l->ca_file && *l->ca_file && access(l->ca_file, R_OK) < 0)
		errlist_add(errs, where_of(c->cfg, "ldap.ca_file", where, sizeof(where)),
		    "ldap.ca_file: cannot read %s: %s", l->ca_file, strerror(errno));
	replace_resolved(&l->bind_password_file, confdir);
	if (l->bind_password_file)
		l->bind_password = secret_read(l->bind_password_file, "ldap.bind_password_file",
		    where_of(c->cfg, "ldap.bind_password_file", where, sizeof(where)), errs);
}

static config_t *
parse_file(const char *path, const char *dir, struct errlist *errs)
{
	config_t *cfg = calloc(1, sizeof(*cfg));
	char where[512];

	if (cfg == NULL)
		return NULL;
	config_init(cfg);
	config_set_include_dir(cfg, dir);
	if (config_read_file(cfg, path) != CONFIG_TRUE) {
		const char *file = config_error_file(cfg);
		if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
			errlist_add(errs, path, "cannot read the file: %s", strerror(errno));
		else {
			snprintf(where, sizeof(where), "%s:%d", file ? file : path,
			    config_error_line(cfg));
			errlist_add(errs, where, "%s", config_error_text(cfg));
		}
		config_destroy(cfg);
		free(cfg);
		return NULL;
	}
	return cfg;
}

static void
load_plugin_files(struct conf *c, struct errlist *errs)
{
	char where[512];

	c->plugin_conf = calloc(c->plugins.enabled.n + 1, sizeof(*c->plugin_conf));
	if (c->plugin_conf == NULL)
		return;
	for (size_t i = 0; i < c->plugins.enabled.n; i++) {
		const char *name = c->plugins.enabled.v[i];
		struct conf_plugin *cp = &c->plugin_conf[c->n_plugin_conf];
		struct stat st;

		if (!name_valid(name)) {
			errlist_add(errs, where_of(c->cfg, "plugins.enabled", where, sizeof(where)),
			    "plugins.enabled: \"%s\" is not a plugin name ([a-z][a-z0-9_]*, at most 32)", name);
			continue;
		}
		cp->name = strdup(name);
		if (asprintf(&cp->file, "%s/%s.conf", c->plugins.conf_dir, name) < 0)
			cp->file = NULL;
		c->n_plugin_conf++;
		/* A plugin with nothing to configure needs no file. */
		if (cp->file == NULL || stat(cp->file, &st) < 0)
			continue;
		cp->cfg = parse_file(cp->file, c->plugins.conf_dir, errs);
		if (cp->cfg)
			cp->group = config_root_setting(cp->cfg);
	}
}

/*
 * Loads and checks a configuration. Returns it, or NULL with every
 * problem found in errs. The caller owns the result (conf_free).
 */
struct conf *
conf_load(const char *path, struct errlist *errs)
{
	struct conf *c = calloc(1, sizeof(*c));
	char *copy = strdup(path), *slash;
	const char *confdir;
	size_t before = errs->n;

	if (c == NULL || copy == NULL) {
		free(c);
		free(copy);
		errlist_add(errs, path, "out of memory");
		return NULL;
	}
	slash = strrchr(copy, '/');
	if (slash == NULL)
		confdir = ".";
	else if (slash == copy)
		confdir = "/";
	else {
		*slash = '\0';
		confdir = copy;
	}
	c->path = strdup(path);
	c->cfg = parse_file(path, confdir, errs);
	if (c->cfg == NULL)
		goto fail;
	if (conf_check_group(config_root_setting(c->cfg), conf_root_keys, "", c, errs) < 0)
		goto fail;
	check_listen(c, errs);
	check_proxies(c, errs);
	check_regions(c, errs);
	check_metrics(c, errs);
	check_reminders(c, errs);
	check_redis(c, confdir, errs);
	check_ldap(c, confdir, errs);
	replace_resolved(&c->web.root, confdir);
	if (need_dir(c->cfg, "web.root", c->web.root, errs) == 0) {
		char where[512];
		c->web.files = web_files_load(c->web.root,
		    where_of(c->cfg, "web.root", where, sizeof(where)), errs);
	}
	replace_resolved(&c->audit.file, confdir);
	replace_resolved(&c->plugins.dir, confdir);
	need_dir(c->cfg, "plugins.dir", c->plugins.dir, errs);
	replace_resolved(&c->plugins.conf_dir, confdir);
	load_plugin_files(c, errs);
	if (errs->n > before)
		goto fail;
	free(copy);
	return c;
fail:
	free(copy);
	conf_free(c);
	return NULL;
}

const struct conf_plugin *
conf_plugin_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_plugin_conf; i++)
		if (strcmp(c->plugin_conf[i].name, name) == 0)
			return &c->plugin_conf[i];
	return NULL;
}

static void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	strlist_free(&c->listen);
	strlist_free(&c->limits.trusted_proxies);
	strlist_free(&c->regions);
	strlist_free(&c->metrics.allow);
	strlist_free(&c->appointments.reminders);
	free(c->log.level);
	free(c->log.target);
	free(c->redis.host);
	free(c->redis.socket);
	free(c->redis.password_file);
	secret_free(c->redis.password);
	free(c->ldap.uri);
	free(c->ldap.ca_file);
	free(c->ldap.bind_dn);
	free(c->ldap.bind_password_file);
	secret_free(c->ldap.bind_password);
	free(c->ldap.base_dn);
	free(c->ldap.user_filter);
	free(c->ldap.organization_attribute);
	free(c->ldap.areas_attribute);
	free(c->ldap.uid_attribute);
	free(c->ldap.role_caseworker);
	free(c->ldap.role_provider);
	free(c->ldap.role_supervisor);
	free(c->ldap.role_admin);
	free(c->web.root);
	web_files_free(c->web.files);
	free(c->audit.file);
	free(c->plugins.dir);
	free(c->plugins.conf_dir);
	strlist_free(&c->plugins.enabled);
	for (size_t i = 0; i < c->n_plugin_conf; i++) {
		free(c->plugin_conf[i].name);
		free(c->plugin_conf[i].file);
		if (c->plugin_conf[i].cfg) {
			config_destroy(c->plugin_conf[i].cfg);
			free(c->plugin_conf[i].cfg);
		}
	}
	free(c->plugin_conf);
	if (c->cfg) {
		config_destroy(c->cfg);
		free(c->cfg);
	}
	free(c);
}
