/*
 * main.c - korpud, the korpu daemon: one libevent loop serving the JSON
 * API, with service-area plugins loaded from the config.
 *
 * The event loop never blocks. What could, and where it runs instead:
 *  - Config and secret files, and dlopen() of plugins: read before the
 *    loop starts; on SIGHUP the new config is read and checked on a
 *    worker thread (reload.c) and only the swap happens on the loop.
 *  - Redis: hiredis's asynchronous API on the loop (redis-link.c); every
 *    command has a libevent timer, since hiredis 0.14 has no timeout.
 *    redis.host must be numeric, so connecting never calls a resolver.
 *  - LDAP: sign-in runs libldap's synchronous calls, with timeouts, on a
 *    few worker threads (ldap-pool.c) that hand results back through a
 *    pipe; the loop never calls libldap.
 *  - The audit file: appended by a writer thread of its own (audit.c); the
 *    loop only queues lines. Its last line is read once at start.
 *  - Listen addresses are numeric, so binding resolves nothing either.
 *  - Time zones: libical reads its zone index and a zone's data file when
 *    first asked; the index and the default zone are loaded before the
 *    loop starts (zones_preload, slots.c). Another zone reads one small
 *    file, once, when a provider first uses it: the one disk read left
 *    on the loop, accepted as such.
 *  - A posted HSDS dataset (up to limits.import_max) is parsed and mapped
 *    on the loop: CPU, not I/O, bounded by that limit; the rows are
 *    written one after the other through Redis.
 *  - Logging writes one short line to stderr or syslog(3): the one write
 *    we accept on the loop (a pipe or the journal's socket).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "korpud.h"

#ifndef KORPU_SYSCONFDIR
#define KORPU_SYSCONFDIR "/etc"
#endif

static void
usage(void)
{
	fprintf(stderr, "usage: korpud [-ftV] [-c config]\n"
	    "       korpud [-c config] -i dataset.json [-a area] [-r region]\n"
	    "  -c FILE  configuration file (default %s/korpu/korpud.conf)\n"
	    "  -t       check the configuration and its plugins, then exit (0 good, 1 bad)\n"
	    "  -f       stay in the foreground\n"
	    "  -V       print the version and exit\n"
	    "  -i FILE  import an Open Referral HSDS dataset into the directory, print the\n"
	    "           report and exit; -a and -r: the area and region of rows that do not say\n",
	    KORPU_SYSCONFDIR);
}

static void
print_error_line(const char *line)
{
	fprintf(stderr, "korpud: %s\n", line);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	if (sig == SIGHUP)
		reload_start(srv->reload);
	else
		shutdown_begin(srv);
}

static void
server_cleanup(struct server *srv)
{
	/* Exiting: a further signal must not cut the clean-up short (the
	 * audit file is still being written, workers joined). libevent puts
	 * the default handlers back when its signal events go, so they go
	 * first. */
	if (srv->sig_hup)
		event_free(srv->sig_hup);
	if (srv->sig_term)
		event_free(srv->sig_term);
	if (srv->sig_int)
		event_free(srv->sig_int);
	srv->sig_hup = srv->sig_term = srv->sig_int = NULL;
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* Whatever still waits on a worker or on Redis is answered or freed
	 * first, while everything it may touch (plugins, evhttp, the audit
	 * file) still exists. */
	jobs_stop(srv);
	ldap_pool_free(srv->ldap);
	srv->ldap = NULL;
	redis_link_free(srv->redis);
	srv->redis = NULL;
	api_session_shutdown();
	audit_close(srv->audit);	/* nothing appends after this */
	srv->audit = NULL;
	plugins_stop(srv);
	http_server_free(srv->http);
	reload_free(srv->reload);
	metrics_free();
	plugins_close_all(&srv->plugins);
	conf_free(srv->conf);
	if (srv->base)
		event_base_free(srv->base);
	libevent_global_shutdown();
}

/* Everything that can fail before serving; errs says what did. */
static int
server_start(struct server *srv, int foreground, struct errlist *errs)
{
	const struct conf *c = srv->conf;
	int use_syslog = strcmp(c->log.target, "syslog") == 0;

	srv->foreground = foreground;
	if (!foreground) {
		use_syslog = 1;		/* stderr is gone once started */
		if (daemon_detach() < 0) {
			errlist_add(errs, "daemon", "cannot detach: %s", strerror(errno));
			return -1;
		}
	}
	log_setup(log_level_parse(c->log.level), use_syslog);
	signal(SIGPIPE, SIG_IGN);
	srv->base = event_base_new();
	if (srv->base == NULL) {
		errlist_add(errs, "libevent", "cannot create the event loop");
		return -1;
	}
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, on_signal, srv);
	srv->sig_term = evsignal_new(srv->base, SIGTERM, on_signal, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, on_signal, srv);
	srv->reload = reload_new(srv);
	srv->redis = redis_link_new(srv->base, &c->redis);
	srv->ldap = ldap_pool_new(srv->base, &c->ldap);
	if (!srv->sig_hup || !srv->sig_term || !srv->sig_int || !srv->reload || !srv->redis ||
	    !srv->ldap || metrics_init() < 0) {
		errlist_add(errs, "korpud", "out of memory");
		return -1;
	}
	evsignal_add(srv->sig_hup, NULL);
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	srv->audit = audit_open(c->audit.file, errs);
	if (srv->audit == NULL)
		return -1;
	if (plugins_start(srv, errs) < 0)
		return -1;
	srv->http = http_server_new(srv, errs);
	if (srv->http == NULL)
		return -1;
	redis_link_start(srv->redis);
	srv->relay = relay_start(srv);
	srv->expiry = expiry_start(srv);
	srv->jobs = jobs_start(srv);
	if (srv->relay == NULL || srv->expiry == NULL || srv->jobs == NULL) {
		errlist_add(errs, "korpud", "out of memory");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = KORPU_SYSCONFDIR "/korpu/korpud.conf";
	int check_only = 0, foreground = 0, opt, rc = 1;
	const char *import_file = NULL, *import_area = NULL, *import_region = NULL;
	struct server srv = { 0 };
	struct errlist errs = { 0 };
	char *real = NULL;

	while ((opt = getopt(argc, argv, "c:ftVhi:a:r:")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'i': import_file = optarg; break;
		case 'a': import_area = optarg; break;
		case 'r': import_region = optarg; break;
		case 'f': foreground = 1; break;
		case 't': check_only = 1; break;
		case 'V':
			printf("korpud %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			    KORPU_ABI_MAJOR, KORPU_ABI_MINOR);
			return 0;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc || ((import_area || import_region) && !import_file)) {
		usage();
		return 2;
	}
	/* Forked first, before anything is allocated or any thread runs; the
	 * parent waits for the child's word on its start. */
	srv.report_fd = -1;
	if (!foreground && !check_only && !import_file) {
		srv.report_fd = daemon_fork();
		if (srv.report_fd < 0) {
			fprintf(stderr, "korpud: cannot detach: %s\n", strerror(errno));
			return 1;
		}
	}

	/* Paths in the config are relative to its folder; a daemon changes to
	 * "/", and a reload reads the file again: so resolve it once, now. */
	real = realpath(path, NULL);
	if (real != NULL)
		path = real;
	srv.conf = conf_load(path, &errs);
	if (srv.conf != NULL)
		plugins_open_all(srv.conf, &srv.plugins, &errs);
	if (errs.n) {
		errlist_print(&errs, "", print_error_line);
		fprintf(stderr, "korpud: %s: configuration has %zu problem%s\n", path,
		    errs.n, errs.n == 1 ? "" : "s");
		goto out;
	}
	zones_preload();		/* the zone index is read now, not while serving */
	if (import_file && !check_only) {
		rc = import_cli_run(&srv, import_file, import_area, import_region);
		goto out;
	}
	if (check_only) {
		printf("korpud: %s: configuration OK (%zu plugin%s)\n", path,
		    srv.plugins.n, srv.plugins.n == 1 ? "" : "s");
		rc = 0;
		goto out;
	}
	if (server_start(&srv, foreground, &errs) < 0) {
		errlist_print(&errs, "cannot start: ", print_error_line);
		for (size_t i = 0; i < errs.n; i++)
			log_error("cannot start: %s: %s", errs.v[i].where, errs.v[i].message);
		goto out;
	}
	log_info("korpud %s started (config %s, %zu plugin%s)", PACKAGE_VERSION, path,
	    srv.plugins.n, srv.plugins.n == 1 ? "" : "s");
	if (srv.report_fd >= 0) {
		daemon_started(srv.report_fd);
		srv.report_fd = -1;
	}
	event_base_dispatch(srv.base);
	log_info("korpud stopped");
	rc = 0;
out:
	errlist_free(&errs);
	server_cleanup(&srv);
	free(real);
	return rc;
}
