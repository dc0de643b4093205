/*
 * reload.c - SIGHUP: read and check the configuration again without
 * stopping. Reading files may block, so a worker thread loads and checks
 * the new config and hands it back through a pipe; the loop then swaps it
 * in whole, or keeps the old one and logs why. Listen addresses and the
 * set of plugins are fixed at start: changing them is reported as
 * needing a restart, and everything else applies at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "korpud.h"

struct reload_job {
	char *path;
	const struct plugin_set *plugins;	/* descriptors: read only */
	struct conf *conf;			/* result, or NULL */
	struct errlist errs;
};

struct reload {
	struct server *srv;
	int fds[2];
	struct event *done_ev;
	pthread_t thread;
	int running;
	int again;				/* a SIGHUP came while running */
};

static void *
reload_work(void *arg)
{
	struct reload_job *job = arg;

	job->conf = conf_load(job->path, &job->errs);
	for (size_t i = 0; job->conf && i < job->conf->n_plugin_conf; i++) {
		const struct conf_plugin *cp = &job->conf->plugin_conf[i];
		const struct plugin *p = plugins_find(job->plugins, cp->name);
		if (p != NULL)
			plugin_check_settings(p->desc, cp, &job->errs);
	}
	if (job->errs.n && job->conf) {
		conf_free(job->conf);
		job->conf = NULL;
	}
	return job;
}

static void
reload_finished(evutil_socket_t fd, short what, void *arg)
{
	struct reload *rl = arg;
	struct reload_job *job = NULL;
	void *ret = NULL;
	char byte;

	if (read(fd, &byte, 1) != 1)
		return;
	pthread_join(rl->thread, &ret);
	rl->running = 0;
	job = ret;
	if (job->conf == NULL) {
		metrics_reload(0);
		log_error("reload refused, the running configuration stays: %zu problem(s)",
		    job->errs.n);
		for (size_t i = 0; i < job->errs.n; i++)
			log_error("reload refused: %s: %s", job->errs.v[i].where,
			    job->errs.v[i].message);
	} else {
		reload_apply(rl->srv, job->conf);
		metrics_reload(1);
	}
	errlist_free(&job->errs);
	free(job->path);
	free(job);
	if (rl->again) {
		rl->again = 0;
		reload_start(rl);
	}
}

struct reload *
reload_new(struct server *srv)
{
	struct reload *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->srv = srv;
	if (pipe2(rl->fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(rl);
		return NULL;
	}
	rl->done_ev = event_new(srv->base, rl->fds[0], EV_READ | EV_PERSIST, reload_finished, rl);
	if (rl->done_ev == NULL || event_add(rl->done_ev, NULL) < 0) {
		reload_free(rl);
		return NULL;
	}
	return rl;
}

/* The worker needs the pipe too; it travels in this wrapper. */
struct thread_arg {
	struct reload_job *job;
	int fd;
};

static void *
reload_main(void *arg)
{
	struct thread_arg ta = *(struct thread_arg *)arg;
	char byte = 1;

	free(arg);
	reload_work(ta.job);
	/* The loop joins us when this byte arrives. */
	while (write(ta.fd, &byte, 1) < 0 && errno == EINTR)
		;
	return ta.job;
}

void
reload_start(struct reload *rl)
{
	struct reload_job *job;
	struct thread_arg *ta;

	if (rl->running) {
		rl->again = 1;
		return;
	}
	log_info("reload: reading %s", rl->srv->conf->path);
	job = calloc(1, sizeof(*job));
	ta = malloc(sizeof(*ta));
	if (job == NULL || ta == NULL || (job->path = strdup(rl->srv->conf->path)) == NULL) {
		free(job);
		free(ta);
		log_error("reload: out of memory");
		return;
	}
	job->plugins = &rl->srv->plugins;
	ta->job = job;
	ta->fd = rl->fds[1];
	if (pthread_create(&rl->thread, NULL, reload_main, ta) != 0) {
		log_error("reload: cannot start a worker thread");
		free(job->path);
		free(job);
		free(ta);
		return;
	}
	rl->running = 1;
}

void
reload_free(struct reload *rl)
{
	void *ret = NULL;

	if (rl == NULL)
		return;
	if (rl->running) {
		struct reload_job *job;
		pthread_join(rl->thread, &ret);
		job = ret;
		if (job) {
			conf_free(job->conf);
			errlist_free(&job->errs);
			free(job->path);
			free(job);
		}
	}
	if (rl->done_ev)
		event_free(rl->done_ev);
	close(rl->fds[0]);
	close(rl->fds[1]);
	free(rl);
}

static int
lists_equal(const struct strlist *a, const struct strlist *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* Swaps a checked configuration in. */
void
reload_apply(struct server *srv, struct conf *next)
{
	struct conf *old = srv->conf;

	if (!lists_equal(&old->listen, &next->listen))
		log_warn("reload: listen addresses changed; they take effect at the next restart");
	if (!lists_equal(&old->plugins.enabled, &next->plugins.enabled) ||
	    strcmp(old->plugins.dir, next->plugins.dir) != 0)
		log_warn("reload: plugins.enabled or plugins.dir changed; plugins are loaded and unloaded only at restart");
	if (strcmp(old->audit.file, next->audit.file) != 0)
		log_warn("reload: audit.file changed; the new file is used from the next restart");
	srv->conf = next;
	log_setup(log_level_parse(next->log.level),
	    !srv->foreground || strcmp(next->log.target, "syslog") == 0);
	http_server_reconfigure(srv->http);
	redis_link_reconfigure(srv->redis, &next->redis);
	ldap_pool_reconfigure(srv->ldap, &next->ldap);
	plugins_reconfigure(srv);
	conf_free(old);
	log_info("reload: configuration reloaded from %s", next->path);
}
