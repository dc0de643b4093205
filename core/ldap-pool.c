/*
 * ldap-pool.c - staff sign-in against the directory, off the event loop.
 *
 * A few worker threads each hold two libldap connections: a service
 * connection, bound as the service account and reused for searches and
 * group compares, and a user connection that only ever carries the bind
 * that checks a password (a bind changes a connection's identity, so the
 * two are never mixed). Workers run libldap's synchronous calls with
 * connect and operation timeouts; the loop only queues a job and later
 * reads the finished job back through a pipe, so a stalled directory
 * slows sign-in and nothing else. The loop also keeps its own deadline per
 * job: the caller hears "unavailable" in time even if a worker is stuck.
 *
 * A connection that fails (slapd restarted, timed out) is dropped and
 * made again for the next job; an operation that finds its connection
 * dead is retried once on a fresh one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldap.h>

#include "korpud.h"

#define QUEUE_MAX 256

/* Immutable once made; shared by workers, freed with its last user. */
struct ldap_settings {
	struct conf_ldap c;		/* strings owned here */
	unsigned generation;
	int refs;
};

struct ldap_job {
	char *username;
	char *password;
	ldap_login_cb cb;		/* NULL once the loop has given up */
	void *arg;
	int cancelled;			/* set by the loop at the deadline (atomic) */
	struct event *deadline;
	struct ldap_job *next;
	/* filled by the worker */
	enum ldap_outcome outcome;
	struct ldap_user user;
	char detail[256];
};

struct worker {
	struct ldap_pool *pool;
	pthread_t thread;
	LDAP *svc;			/* bound as the service account */
	LDAP *usr;			/* carries user binds only */
	unsigned generation;
};

struct ldap_pool {
	struct event_base *base;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ldap_job *head, *tail;
	size_t queued;
	int stopping;
	struct ldap_settings *settings;
	struct worker *workers;
	size_t n_workers;
	int fds[2];			/* workers -> loop: finished jobs */
	struct event *done_ev;
	long long deadline_ms;
};

/* ---- settings ---- */

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct ldap_settings *
settings_new(const struct conf_ldap *c, unsigned generation)
{
	struct ldap_settings *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->c = *c;
	s->c.uri = dup_or_null(c->uri);
	s->c.ca_file = dup_or_null(c->ca_file);
	s->c.bind_dn = dup_or_null(c->bind_dn);
	s->c.bind_password_file = NULL;
	s->c.bind_password = dup_or_null(c->bind_password);
	s->c.base_dn = dup_or_null(c->base_dn);
	s->c.user_filter = dup_or_null(c->user_filter);
	s->c.organization_attribute = dup_or_null(c->organization_attribute);
	s->c.areas_attribute = dup_or_null(c->areas_attribute);
	s->c.uid_attribute = dup_or_null(c->uid_attribute);
	s->c.role_caseworker = dup_or_null(c->role_caseworker);
	s->c.role_provider = dup_or_null(c->role_provider);
	s->c.role_supervisor = dup_or_null(c->role_supervisor);
	s->c.role_admin = dup_or_null(c->role_admin);
	s->generation = generation;
	s->refs = 1;
	return s;
}

static void
settings_release(struct ldap_settings *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	free(s->c.uri);
	free(s->c.ca_file);
	free(s->c.bind_dn);
	if (s->c.bind_password)
		explicit_bzero(s->c.bind_password, strlen(s->c.bind_password));
	free(s->c.bind_password);
	free(s->c.base_dn);
	free(s->c.user_filter);
	free(s->c.organization_attribute);
	free(s->c.areas_attribute);
	free(s->c.uid_attribute);
	free(s->c.role_caseworker);
	free(s->c.role_provider);
	free(s->c.role_supervisor);
	free(s->c.role_admin);
	free(s);
}

/* ---- worker side: libldap, synchronous, with timeouts ---- */

static int
conn_gone(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
	    rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED;
}

static void
conn_drop(LDAP **ld)
{
	if (*ld) {
		ldap_unbind_ext(*ld, NULL, NULL);
		*ld = NULL;
	}
}

/* A new connection with korpu's options; NULL with detail on failure. */
static LDAP *
conn_open(const struct ldap_settings *s, char *detail, size_t dlen)
{
	struct timeval net = { (time_t)(s->c.connect_timeout_ms / 1000),
	    (suseconds_t)((s->c.connect_timeout_ms % 1000) * 1000) };
	struct timeval op = { (time_t)(s->c.op_timeout_ms / 1000),
	    (suseconds_t)((s->c.op_timeout_ms % 1000) * 1000) };
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;
	LDAP *ld = NULL;

	rc = ldap_initialize(&ld, s->c.uri);
	if (rc != LDAP_SUCCESS) {
		snprintf(detail, dlen, "ldap: %s", ldap_err2string(rc));
		return NULL;
	}
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
	if (s->c.ca_file && *s->c.ca_file) {
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, s->c.ca_file);
		ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
		ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	}
	if (s->c.starttls) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			snprintf(detail, dlen, "ldap: StartTLS failed: %s", ldap_err2string(rc));
			ldap_unbind_ext(ld, NULL, NULL);
			return NULL;
		}
	}
	return ld;
}

static int
simple_bind(LDAP *ld, const char *dn, const char *password)
{
	struct berval cred;

	cred.bv_val = (char *)password;
	cred.bv_len = strlen(password);
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

static int
service_ready(struct worker *w, const struct ldap_settings *s, char *detail, size_t dlen)
{
	int rc;

	if (w->svc)
		return 0;
	w->svc = conn_open(s, detail, dlen);
	if (w->svc == NULL)
		return -1;
	rc = simple_bind(w->svc, s->c.bind_dn, s->c.bind_password);
	if (rc != LDAP_SUCCESS) {
		snprintf(detail, dlen, "ldap: the service account cannot bind: %s",
		    ldap_err2string(rc));
		conn_drop(&w->svc);
		return -1;
	}
	return 0;
}

/* The user filter with the name escaped per RFC 4515, or NULL. */
static char *
filter_for(const char *pattern, const char *username)
{
	struct berval in, out = { 0, NULL };
	const char *pct = strstr(pattern, "%s");
	char *filter = NULL;

	in.bv_val = (char *)username;
	in.bv_len = strlen(username);
	if (pct == NULL || ldap_bv2escaped_filter_value(&in, &out) != 0)
		return NULL;
	if (asprintf(&filter, "%.*s%s%s", (int)(pct - pattern), pattern, out.bv_val, pct + 2) < 0)
		filter = NULL;
	ber_memfree(out.bv_val);
	return filter;
}

static void
copy_first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t len)
{
	struct berval **vals = attr ? ldap_get_values_len(ld, e, attr) : NULL;

	out[0] = '\0';
	if (vals && vals[0])
		utf8_copy(out, len, vals[0]->bv_val, strnlen(vals[0]->bv_val, vals[0]->bv_len));
	ldap_value_free_len(vals);
}

static void
copy_areas(LDAP *ld, LDAPMessage *e, const char *attr, struct ldap_user *u)
{
	struct berval **vals = attr ? ldap_get_values_len(ld, e, attr) : NULL;

	u->n_areas = 0;
	for (size_t i = 0; vals && vals[i] && u->n_areas < LDAP_USER_AREAS_MAX; i++)
		if (vals[i]->bv_len < sizeof(u->areas[0]))
			snprintf(u->areas[u->n_areas++], sizeof(u->areas[0]), "%.*s",
			    (int)vals[i]->bv_len, vals[i]->bv_val);
	ldap_value_free_len(vals);
}

/* Searches for the one entry of the user; 0 found, 1 not exactly one,
 * -1 directory trouble (rc set). */
static int
find_user(struct worker *w, const struct ldap_settings *s, const char *username,
    struct ldap_user *u, int *rc)
{
	char *attrs[] = { "cn", s->c.uid_attribute, s->c.organization_attribute,
	    s->c.areas_attribute, NULL };
	struct timeval tv = { (time_t)(s->c.op_timeout_ms / 1000),
	    (suseconds_t)((s->c.op_timeout_ms % 1000) * 1000) };
	char *filter = filter_for(s->c.user_filter, username);
	LDAPMessage *res = NULL, *e;
	char *dn;
	int found;

	if (filter == NULL) {
		*rc = LDAP_FILTER_ERROR;
		return 1;
	}
	*rc = ldap_search_ext_s(w->svc, s->c.base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
	    NULL, NULL, &tv, 2, &res);
	free(filter);
	if (*rc == LDAP_SIZELIMIT_EXCEEDED) {
		ldap_msgfree(res);
		return 1;		/* two or more: ambiguous, refuse */
	}
	if (*rc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return -1;
	}
	found = ldap_count_entries(w->svc, res);
	if (found != 1) {
		ldap_msgfree(res);
		return 1;
	}
	e = ldap_first_entry(w->svc, res);
	dn = ldap_get_dn(w->svc, e);
	snprintf(u->dn, sizeof(u->dn), "%s", dn ? dn : "");
	ldap_memfree(dn);
	copy_first_value(w->svc, e, "cn", u->name, sizeof(u->name));
	copy_first_value(w->svc, e, s->c.uid_attribute, u->uid, sizeof(u->uid));
	copy_first_value(w->svc, e, s->c.organization_attribute, u->organization,
	    sizeof(u->organization));
	copy_areas(w->svc, e, s->c.areas_attribute, u);
	ldap_msgfree(res);
	return u->dn[0] ? 0 : 1;
}

static int
member_of(struct worker *w, const char *group, const char *dn, int *rc)
{
	struct berval v;

	if (group == NULL)
		return 0;
	v.bv_val = (char *)dn;
	v.bv_len = strlen(dn);
	*rc = ldap_compare_ext_s(w->svc, group, "member", &v, NULL, NULL);
	if (*rc == LDAP_COMPARE_TRUE) {
		*rc = LDAP_SUCCESS;
		return 1;
	}
	if (*rc == LDAP_COMPARE_FALSE || *rc == LDAP_NO_SUCH_OBJECT ||
	    *rc == LDAP_NO_SUCH_ATTRIBUTE || *rc == LDAP_UNDEFINED_TYPE)
		*rc = LDAP_SUCCESS;
	return 0;
}

/* One attempt at the whole sign-in; returns the LDAP code that ended it
 * when the directory failed (so the caller may retry), else 0. */
static int
login_once(struct worker *w, const struct ldap_settings *s, struct ldap_job *job)
{
	static const unsigned bits[] = { ROLE_CASEWORKER, ROLE_PROVIDER, ROLE_SUPERVISOR, ROLE_ADMIN };
	const char *groups[] = { s->c.role_caseworker, s->c.role_provider,
	    s->c.role_supervisor, s->c.role_admin };
	int rc = LDAP_SUCCESS, found;

	memset(&job->user, 0, sizeof(job->user));
	if (service_ready(w, s, job->detail, sizeof(job->detail)) < 0) {
		job->outcome = LDAP_LOGIN_UNAVAILABLE;
		return LDAP_SERVER_DOWN;
	}
	found = find_user(w, s, job->username, &job->user, &rc);
	if (found < 0)
		goto trouble;
	if (found > 0) {
		job->outcome = LDAP_LOGIN_DENIED;
		return 0;
	}
	if (w->usr == NULL &&
	    (w->usr = conn_open(s, job->detail, sizeof(job->detail))) == NULL) {
		job->outcome = LDAP_LOGIN_UNAVAILABLE;
		return LDAP_SERVER_DOWN;
	}
	rc = simple_bind(w->usr, job->user.dn, job->password);
	if (rc == LDAP_INVALID_CREDENTIALS) {
		job->outcome = LDAP_LOGIN_DENIED;
		return 0;
	}
	if (rc != LDAP_SUCCESS) {
		conn_drop(&w->usr);
		goto trouble;
	}
	for (size_t i = 0; i < 4; i++) {
		if (member_of(w, groups[i], job->user.dn, &rc))
			job->user.roles |= bits[i];
		if (rc != LDAP_SUCCESS)
			goto trouble;
	}
	job->outcome = LDAP_LOGIN_OK;
	return 0;
trouble:
	/* A directory that went away took both connections with it. */
	if (conn_gone(rc)) {
		conn_drop(&w->svc);
		conn_drop(&w->usr);
	}
	job->outcome = conn_gone(rc) ? LDAP_LOGIN_UNAVAILABLE : LDAP_LOGIN_ERROR;
	snprintf(job->detail, sizeof(job->detail), "ldap: %s", ldap_err2string(rc));
	return rc;
}

/* A readiness probe: the service account is bound and the directory
 * answers a search of its root entry. */
static int
probe_once(struct worker *w, const struct ldap_settings *s, struct ldap_job *job)
{
	char *attrs[] = { "1.1", NULL };
	struct timeval tv = { (time_t)(s->c.op_timeout_ms / 1000),
	    (suseconds_t)((s->c.op_timeout_ms % 1000) * 1000) };
	LDAPMessage *res = NULL;
	int rc;

	if (service_ready(w, s, job->detail, sizeof(job->detail)) < 0) {
		job->outcome = LDAP_LOGIN_UNAVAILABLE;
		return LDAP_SERVER_DOWN;
	}
	rc = ldap_search_ext_s(w->svc, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0,
	    NULL, NULL, &tv, 1, &res);
	ldap_msgfree(res);
	if (rc == LDAP_SUCCESS) {
		job->outcome = LDAP_LOGIN_OK;
		return 0;
	}
	if (conn_gone(rc)) {
		conn_drop(&w->svc);
		conn_drop(&w->usr);
	}
	job->outcome = LDAP_LOGIN_UNAVAILABLE;
	snprintf(job->detail, sizeof(job->detail), "ldap: %s", ldap_err2string(rc));
	return rc;
}

static void
login(struct worker *w, const struct ldap_settings *s, struct ldap_job *job)
{
	int (*once)(struct worker *, const struct ldap_settings *, struct ldap_job *) =
	    job->username ? login_once : probe_once;

	if (__atomic_load_n(&job->cancelled, __ATOMIC_ACQUIRE)) {
		job->outcome = LDAP_LOGIN_UNAVAILABLE;
		if (job->password)
			explicit_bzero(job->password, strlen(job->password));
		return;
	}
	if (w->generation != s->generation) {
		conn_drop(&w->svc);
		conn_drop(&w->usr);
		w->generation = s->generation;
	}
	/* A connection kept from before a directory restart fails on first
	 * use: one retry on fresh connections. */
	if (conn_gone(once(w, s, job)))
		once(w, s, job);
	if (job->password)
		explicit_bzero(job->password, strlen(job->password));
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct ldap_pool *p = w->pool;

	for (;;) {
		struct ldap_job *job;
		struct ldap_settings *s;

		pthread_mutex_lock(&p->lock);
		while (!p->stopping && p->head == NULL)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		job = p->head;
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued--;
		s = p->settings;
		s->refs++;
		pthread_mutex_unlock(&p->lock);

		login(w, s, job);

		pthread_mutex_lock(&p->lock);
		settings_release(s);
		pthread_mutex_unlock(&p->lock);
		while (write(p->fds[1], &job, sizeof(job)) < 0 && errno == EINTR)
			;
	}
	conn_drop(&w->svc);
	conn_drop(&w->usr);
	return NULL;
}

/* ---- loop side ---- */

static int pool_queue(struct ldap_pool *p, const char *username, const char *password,
    ldap_login_cb cb, void *arg);

static void
job_free(struct ldap_job *job)
{
	free(job->username);
	if (job->password) {
		explicit_bzero(job->password, strlen(job->password));
		free(job->password);
	}
	if (job->deadline)
		event_free(job->deadline);
	free(job);
}

static void
job_finished(evutil_socket_t fd, short what, void *arg)
{
	struct ldap_job *job;

	while (read(fd, &job, sizeof(job)) == sizeof(job)) {
		if (job->cb)
			job->cb(job->outcome, &job->user, job->detail, job->arg);
		job_free(job);
	}
}

static void
job_too_late(evutil_socket_t fd, short what, void *arg)
{
	struct ldap_job *job = arg;
	ldap_login_cb cb = job->cb;

	/* The worker still owns the job and hands it back later; only the
	 * caller is answered now, and never again. A worker that has not
	 * started the job yet skips it: no bind with a password nobody
	 * waits for. */
	job->cb = NULL;
	__atomic_store_n(&job->cancelled, 1, __ATOMIC_RELEASE);
	if (cb)
		cb(LDAP_LOGIN_UNAVAILABLE, NULL, "ldap: the directory did not answer in time",
		    job->arg);
}

struct ldap_pool *
ldap_pool_new(struct event_base *base, const struct conf_ldap *c)
{
	struct ldap_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->base = base;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->settings = settings_new(c, 1);
	p->deadline_ms = c->connect_timeout_ms + c->op_timeout_ms;
	if (p->settings == NULL || pipe2(p->fds, O_CLOEXEC) < 0) {
		settings_release(p->settings);
		free(p);
		return NULL;
	}
	evutil_make_socket_nonblocking(p->fds[0]);
	p->done_ev = event_new(base, p->fds[0], EV_READ | EV_PERSIST, job_finished, p);
	event_add(p->done_ev, NULL);
	p->workers = calloc((size_t)c->pool_size, sizeof(*p->workers));
	p->n_workers = p->workers ? (size_t)c->pool_size : 0;
	for (size_t i = 0; p->workers && i < p->n_workers; i++) {
		p->workers[i].pool = p;
		p->workers[i].generation = 1;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
			p->n_workers = i;
			break;
		}
	}
	return p;
}

/*
 * Queues a sign-in. cb runs on the loop exactly once: with the outcome,
 * or with LDAP_LOGIN_UNAVAILABLE after the deadline. Returns -1 when the
 * queue is full (cb is then not called).
 */
int
ldap_pool_login(struct ldap_pool *p, const char *username, const char *password,
    ldap_login_cb cb, void *arg)
{
	return pool_queue(p, username, password, cb, arg);
}

/* Queues a readiness probe; cb as for ldap_pool_login (user is NULL). */
int
ldap_pool_probe(struct ldap_pool *p, ldap_login_cb cb, void *arg)
{
	return pool_queue(p, NULL, NULL, cb, arg);
}

static int
pool_queue(struct ldap_pool *p, const char *username, const char *password,
    ldap_login_cb cb, void *arg)
{
	struct ldap_job *job = calloc(1, sizeof(*job));
	struct timeval tv = { (time_t)(p->deadline_ms / 1000),
	    (suseconds_t)((p->deadline_ms % 1000) * 1000) };

	if (job == NULL)
		return -1;
	job->username = username ? strdup(username) : NULL;
	job->password = password ? strdup(password) : NULL;
	job->cb = cb;
	job->arg = arg;
	job->deadline = evtimer_new(p->base, job_too_late, job);
	if ((username && !job->username) || (password && !job->password) || !job->deadline ||
	    p->n_workers == 0) {
		job_free(job);
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	if (p->queued >= QUEUE_MAX) {
		pthread_mutex_unlock(&p->lock);
		job_free(job);
		return -1;
	}
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->queued++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	evtimer_add(job->deadline, &tv);
	return 0;
}

/* New directory settings: workers reconnect with them before their next job. */
void
ldap_pool_reconfigure(struct ldap_pool *p, const struct conf_ldap *c)
{
	struct ldap_settings *next;

	pthread_mutex_lock(&p->lock);
	next = settings_new(c, p->settings->generation + 1);
	if (next) {
		settings_release(p->settings);
		p->settings = next;
		p->deadline_ms = c->connect_timeout_ms + c->op_timeout_ms;
	}
	pthread_mutex_unlock(&p->lock);
}

/* Stops the workers (each finishes its job, bounded by the timeouts) and
 * frees everything; callers still waiting are not called. */
void
ldap_pool_free(struct ldap_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->n_workers; i++)
		pthread_join(p->workers[i].thread, NULL);
	/* Jobs handed back but not read yet, then jobs never started. */
	{
		struct ldap_job *job;
		while (read(p->fds[0], &job, sizeof(job)) == sizeof(job))
			job_free(job);
	}
	while (p->head) {
		struct ldap_job *job = p->head;
		p->head = job->next;
		job_free(job);
	}
	event_free(p->done_ev);
	close(p->fds[0]);
	close(p->fds[1]);
	settings_release(p->settings);
	free(p->workers);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
