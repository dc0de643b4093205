/*
 * audit.c - the audit trail: who read or changed what, and every sign-in
 * attempt. Each record is one JSON line carrying "prev", the SHA-256 of
 * the line before it, so removing or editing a line breaks the chain
 * (contrib/audit-verify checks it). Records go to the Redis stream
 * korpu:audit:{audit} (for GET /api/v1/audit) and to an append-only file
 * written by a thread of its own, so the event loop never waits for the
 * disk. The chain is per file: one file per korpud instance.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "korpud.h"

struct line {
	char *text;			/* with its newline */
	struct line *next;
};

struct audit {
	int fd;
	char prev[65];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct line *head, *tail;
	int stopping;
};

/* The hash of the file's last line: where the chain goes on. */
static int
last_line_hash(int fd, char out[65])
{
	char buf[65536];
	struct stat st;
	off_t start;
	ssize_t n;
	char *end, *line;

	memset(out, '0', 64);
	out[64] = '\0';
	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_size == 0)
		return 0;
	start = st.st_size > (off_t)sizeof(buf) ? st.st_size - (off_t)sizeof(buf) : 0;
	n = pread(fd, buf, sizeof(buf), start);
	if (n <= 0 || buf[n - 1] != '\n')
		return -1;		/* a torn last line: refuse to chain onto it */
	end = buf + n - 1;
	line = end;
	while (line > buf && line[-1] != '\n')
		line--;
	if (line == buf && start > 0)
		return -1;		/* a line longer than we read */
	return sha256_hex(line, (size_t)(end - line), out);
}

static void *
writer_main(void *arg)
{
	struct audit *a = arg;

	for (;;) {
		struct line *batch;

		pthread_mutex_lock(&a->lock);
		while (!a->stopping && a->head == NULL)
			pthread_cond_wait(&a->wake, &a->lock);
		batch = a->head;
		a->head = a->tail = NULL;
		if (batch == NULL && a->stopping) {
			pthread_mutex_unlock(&a->lock);
			break;
		}
		pthread_mutex_unlock(&a->lock);
		for (struct line *l = batch, *next; l; l = next) {
			size_t len = strlen(l->text), off = 0;
			next = l->next;
			while (off < len) {
				ssize_t w = write(a->fd, l->text + off, len - off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					/* The chain breaks here; say so loudly. The
					 * record is still in the Redis stream. */
					log_error("audit: writing the audit file failed (%s): "
					    "the file's chain is broken at this record",
					    w < 0 ? strerror(errno) : "nothing written");
					break;
				}
				off += (size_t)w;
			}
			free(l->text);
			free(l);
		}
		if (fdatasync(a->fd) < 0)
			log_error("audit: fdatasync of the audit file failed: %s", strerror(errno));
	}
	return NULL;
}

/* Opens (creating) the audit file at start-up and finds the chain's end. */
struct audit *
audit_open(const char *path, struct errlist *errs)
{
	struct audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		errlist_add(errs, "audit.file", "cannot open %s: %s", path, strerror(errno));
		free(a);
		return NULL;
	}
	{
		int rfd = open(path, O_RDONLY | O_CLOEXEC);
		int rc = rfd < 0 ? -1 : last_line_hash(rfd, a->prev);
		if (rfd >= 0)
			close(rfd);
		if (rc < 0) {
			errlist_add(errs, "audit.file", "%s does not end with a whole record: "
			    "check it (contrib/audit-verify) before korpud appends to it", path);
			close(a->fd);
			free(a);
			return NULL;
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	if (pthread_create(&a->thread, NULL, writer_main, a) != 0) {
		errlist_add(errs, "audit.file", "cannot start the audit writer thread");
		close(a->fd);
		free(a);
		return NULL;
	}
	return a;
}

/* Writes what is queued, then stops the writer. */
void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = 1;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	close(a->fd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	free(a);
}

static void
stream_stored(redisReply *reply, void *arg)
{
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		log_error("audit: a record did not reach Redis: %s",
		    reply ? reply->str : "no reply");
}

/*
 * Appends one record. Fields: action ("login", "client.read", ...),
 * outcome ("success", "denied", ...), and objects (taken; may be NULL),
 * e.g. {"client_id": "..."}. The actor, roles, organisation, request id
 * and address come from r (or from actor when r has no session yet).
 */
void
audit_record(struct server *srv, struct request *r, const char *actor,
    const char *action, const char *outcome, json_t *objects)
{
	struct audit *a = srv->audit;
	char at[40], *text;
	struct timespec ts;
	struct line *l;
	json_t *rec;

	clock_gettime(CLOCK_REALTIME, &ts);
	time_format_ms((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, at, sizeof(at));
	rec = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s}",
	    "at", at,
	    "actor", actor ? actor : (r && r->uid[0] ? r->uid : "-"),
	    "action", action, "outcome", outcome,
	    "roles", r ? authz_roles_json(r->roles) : json_array(),
	    "organization", r ? r->org : "",
	    "request_id", r ? r->id : "",
	    "address", r ? request_peer(r) : "",
	    "prev", a ? a->prev : "");
	if (rec == NULL) {
		json_decref(objects);
		log_error("audit: cannot build a record for %s", action);
		return;
	}
	json_object_set_new(rec, "objects", objects ? objects : json_object());
	text = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (text == NULL)
		return;
	if (a != NULL) {
		char hash[65];
		sha256_hex(text, strlen(text), hash);
		memcpy(a->prev, hash, sizeof(hash));
		l = calloc(1, sizeof(*l));
		if (l && asprintf(&l->text, "%s\n", text) >= 0) {
			pthread_mutex_lock(&a->lock);
			if (a->tail)
				a->tail->next = l;
			else
				a->head = l;
			a->tail = l;
			pthread_cond_signal(&a->wake);
			pthread_mutex_unlock(&a->lock);
		} else {
			free(l);
			log_error("audit: out of memory; a record was not written to the file");
		}
		{
			const char *argv[] = { "XADD", AUDIT_STREAM, "MAXLEN", "~", "10000000", "*",
			    "record", text, "hash", hash };
			if (redis_call(srv->redis, stream_stored, NULL, 10, argv, NULL) < 0)
				log_error("audit: Redis unavailable; record kept in the file only");
		}
	}
	free(text);
}
