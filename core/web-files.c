/*
 * web-files.c - the web client's static files, read whole into memory
 * with the configuration (at start, and by the reload worker on SIGHUP),
 * so serving one never touches the disk from the loop. Only files of a
 * known type are kept; anything else under the web root (a README, an
 * editor's backup) is never served. Each file carries a strong ETag, the
 * first bytes of its SHA-256, so browsers revalidate cheaply; text is
 * also kept gzipped (read once, sent to every browser that takes it: the
 * client is used over slow connections).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "korpud.h"

#define WEB_MAX_FILES	512
#define WEB_MAX_FILE	(4u << 20)
#define WEB_MAX_TOTAL	(32u << 20)
#define WEB_MAX_DEPTH	8

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".webmanifest", "application/manifest+json" },
};

/* Types worth compressing: text of every kind. */
static int
compressible(const char *type)
{
	return strncmp(type, "text/", 5) == 0 || strstr(type, "json") != NULL ||
	    strstr(type, "svg") != NULL;
}

/* f->gz: the body gzipped, when that saves a tenth or more. */
static void
gzip_body(struct web_file *f)
{
	z_stream z;
	uLong cap;
	char *out;

	if (f->len < 256 || !compressible(f->type))
		return;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return;
	cap = deflateBound(&z, (uLong)f->len) + 32;
	out = malloc(cap);
	z.next_in = (Bytef *)f->body;
	z.avail_in = (uInt)f->len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (out && deflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out < f->len - f->len / 10) {
		f->gz = out;
		f->gz_len = z.total_out;
		snprintf(f->etag_gz, sizeof(f->etag_gz), "\"%.20s-gz\"", f->etag + 1);
	} else {
		free(out);
	}
	deflateEnd(&z);
}

struct load {
	struct web_files *wf;
	size_t total;
	const char *where;
	struct errlist *errs;
};

const char *
web_type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* Names a URL can carry without escaping, and never "." or "..". */
static int
name_plain(const char *name)
{
	if (name[0] == '.' || name[0] == '\0')
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return 1;
}

static int
read_whole(const char *path, size_t size, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = malloc(size ? size : 1);
	size_t got = 0;

	if (fd < 0 || buf == NULL) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return -1;
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != size) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

static void
add_file(struct load *ld, const char *fspath, const char *urlpath, const struct stat *st)
{
	struct web_files *wf = ld->wf;
	struct web_file *f;
	char hex[65];

	if (wf->n >= WEB_MAX_FILES || (size_t)st->st_size > WEB_MAX_FILE ||
	    ld->total + (size_t)st->st_size > WEB_MAX_TOTAL) {
		errlist_add(ld->errs, ld->where, "web.root: %s is past the limits "
		    "(%d files, %u bytes each, %u in all)", fspath, WEB_MAX_FILES,
		    WEB_MAX_FILE, WEB_MAX_TOTAL);
		return;
	}
	f = &wf->v[wf->n];
	memset(f, 0, sizeof(*f));
	if (read_whole(fspath, (size_t)st->st_size, &f->body) < 0) {
		errlist_add(ld->errs, ld->where, "web.root: cannot read %s: %s", fspath,
		    strerror(errno ? errno : EIO));
		return;
	}
	f->len = (size_t)st->st_size;
	f->path = strdup(urlpath);
	f->type = web_type_of(urlpath);
	sha256_hex(f->body, f->len, hex);
	snprintf(f->etag, sizeof(f->etag), "\"%.20s\"", hex);
	if (f->path == NULL) {
		free(f->body);
		errlist_add(ld->errs, ld->where, "out of memory");
		return;
	}
	gzip_body(f);
	ld->total += f->len;
	wf->n++;
}

static void
walk(struct load *ld, const char *fsdir, const char *urldir, int depth)
{
	DIR *d = opendir(fsdir);
	struct dirent *e;

	if (d == NULL) {
		errlist_add(ld->errs, ld->where, "web.root: cannot read %s: %s", fsdir,
		    strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char fs[4096], url[1024];
		struct stat st;

		if (!name_plain(e->d_name))
			continue;
		if ((size_t)snprintf(fs, sizeof(fs), "%s/%s", fsdir, e->d_name) >= sizeof(fs) ||
		    (size_t)snprintf(url, sizeof(url), "%s/%s", urldir, e->d_name) >= sizeof(url))
			continue;
		if (stat(fs, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < WEB_MAX_DEPTH)
			walk(ld, fs, url, depth + 1);
		else if (S_ISREG(st.st_mode) && web_type_of(e->d_name))
			add_file(ld, fs, url, &st);
	}
	closedir(d);
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct web_file *)a)->path, ((const struct web_file *)b)->path);
}

/*
 * Reads every servable file under root. Problems go to errs under where
 * (the config line naming the root). The caller owns the result
 * (web_files_free), which is never NULL unless memory ran out.
 */
struct web_files *
web_files_load(const char *root, const char *where, struct errlist *errs)
{
	struct web_files *wf = calloc(1, sizeof(*wf));
	struct load ld = { wf, 0, where, errs };

	if (wf == NULL || (wf->v = calloc(WEB_MAX_FILES, sizeof(*wf->v))) == NULL) {
		free(wf);
		errlist_add(errs, where, "out of memory");
		return NULL;
	}
	walk(&ld, root, "", 0);
	qsort(wf->v, wf->n, sizeof(*wf->v), by_path);
	return wf;
}

void
web_files_free(struct web_files *wf)
{
	if (wf == NULL)
		return;
	for (size_t i = 0; i < wf->n; i++) {
		free(wf->v[i].path);
		free(wf->v[i].body);
		free(wf->v[i].gz);
	}
	free(wf->v);
	free(wf);
}

/* The file a GET of path answers with: "/" and "/dir/" mean index.html. */
const struct web_file *
web_files_find(const struct web_files *wf, const char *path)
{
	struct web_file key;
	char buf[1024];

	if (wf == NULL || path[0] != '/')
		return NULL;
	if (path[strlen(path) - 1] == '/') {
		if ((size_t)snprintf(buf, sizeof(buf), "%sindex.html", path) >= sizeof(buf))
			return NULL;
		path = buf;
	}
	key.path = (char *)path;
	return bsearch(&key, wf->v, wf->n, sizeof(*wf->v), by_path);
}

/* Does an If-None-Match header name this ETag (or "*")? */
int
web_etag_listed(const char *header, const char *etag)
{
	size_t n = strlen(etag);

	if (strcmp(header, "*") == 0)
		return 1;
	for (const char *p = header; (p = strstr(p, etag)) != NULL; p += n)
		if ((p[n] == '\0' || p[n] == ',' || p[n] == ' ') &&
		    (p == header || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/'))
			return 1;
	return 0;
}

/* Does an Accept-Encoding header take gzip? Not when it says gzip;q=0. */
int
web_takes_gzip(const char *accept_encoding)
{
	const char *p = accept_encoding;

	while (p && (p = strstr(p, "gzip")) != NULL) {
		const char *q = p + 4;
		int token = (p == accept_encoding || p[-1] == ' ' || p[-1] == ',') &&
		    (*q == '\0' || *q == ',' || *q == ';' || *q == ' ');
		if (token) {
			while (*q == ' ')
				q++;
			if (*q == ';') {
				const char *v = strstr(q, "q=");
				const char *end = strchr(q, ',');
				if (v && (end == NULL || v < end) && strtod(v + 2, NULL) <= 0.0)
					return 0;
			}
			return 1;
		}
		p += 4;
	}
	return 0;
}
