/*
 * Shared results kept across sweeps (pcache.h, docs/sharing.md "Across
 * runs").  The file of a layer, all integers little-endian:
 *
 *	"BSWCACHE", u32 format (1), u32 schema (BSW_PCACHE_SCHEMA),
 *	u64 dev, u64 ino, u64 size, i64 mtime (ns), 16 bytes container id,
 *	u64 number of entries,
 *	each entry: u8 kind, u32 key length, u32 value length, key, value,
 *	u64 XXH3-64 of every byte before it.
 *
 * It is named after the file's device and inode only, so that a layer
 * rewritten in place replaces its old results instead of leaving them
 * beside it; the identity in the header decides whether they apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "formats/common/vec.h"
#include "scanner/pcache.h"

#define PC_MAGIC "BSWCACHE"
#define PC_FORMAT 1u
#define PC_HDR 72u
#define PC_KINDS 8u
#define PC_MAX_KEY 4096u
#define PC_NAME_SEED 0x6273776361636865ull /* "bswcache" */

static pthread_mutex_t pc_lock = PTHREAD_MUTEX_INITIALIZER;
static int dir_fd = -1;
static char *dir_path;
static unsigned verify_every;
static const struct bsw_share_codec *codecs[PC_KINDS];
static struct bsw_pc_stats pst;
static unsigned tmp_seq;

/* ---- bytes ---- */

void bsw_pc_put(struct bsw_pc_buf *b, const void *d, size_t n)
{
	if (b->err)
		return;
	if (bsw_vec_reserve(&b->p, &b->alloc, b->len + n, 1, SIZE_MAX / 2)) {
		b->err = true;
		return;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

void bsw_pc_put_le(struct bsw_pc_buf *b, uint64_t x, unsigned n)
{
	uint8_t t[8];
	unsigned i;

	for (i = 0; i < n && i < 8; i++)
		t[i] = (uint8_t)(x >> (8 * i));
	bsw_pc_put(b, t, i);
}

void bsw_pc_put_str(struct bsw_pc_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT16_MAX) {
		b->err = true;
		return;
	}
	bsw_pc_put_le(b, n, 2);
	bsw_pc_put(b, s, n);
}

const uint8_t *bsw_pc_get(struct bsw_pc_rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > (size_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return p;
}

uint64_t bsw_pc_get_le(struct bsw_pc_rd *r, unsigned n)
{
	const uint8_t *p = bsw_pc_get(r, n);
	uint64_t x = 0;

	while (p && n--)
		x = x << 8 | p[n];
	return x;
}

void bsw_pc_get_str(struct bsw_pc_rd *r, char *dst, size_t cap)
{
	size_t n = (size_t)bsw_pc_get_le(r, 2);
	const uint8_t *p = bsw_pc_get(r, n);

	dst[0] = 0;
	if (!p || n >= cap || memchr(p, 0, n)) {
		r->bad = true;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
}

/* ---- codecs ---- */

void bsw_pcache_codec(enum bsw_share_kind kind, const struct bsw_share_codec *c)
{
	if ((unsigned)kind < PC_KINDS)
		codecs[kind] = c;
}

const struct bsw_share_codec *bsw_pcache_codec_of(enum bsw_share_kind kind)
{
	return (unsigned)kind < PC_KINDS ? codecs[kind] : NULL;
}

/* ---- the directory ---- */

int bsw_pcache_open(const char *dir, unsigned every, char *err, size_t elen)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, elen, "cannot create: %s", strerror(errno));
		return -errno;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, elen, "%s", strerror(errno));
		return -errno;
	}
	/*
	 * Whoever may write DIR chooses the results of the next sweep (the
	 * trust model): only this user, as for ~/.ssh.
	 */
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, elen,
			 "not owned by this user or writable by others (a writer of it "
			 "chooses the results: docs/sharing.md)");
		close(fd);
		return -EPERM;
	}
	dir_path = strdup(dir);
	if (!dir_path) {
		close(fd);
		return -ENOMEM;
	}
	dir_fd = fd;
	verify_every = every;
	return 0;
}

void bsw_pcache_close(void)
{
	if (dir_fd >= 0)
		close(dir_fd);
	dir_fd = -1;
	free(dir_path);
	dir_path = NULL;
}

bool bsw_pcache_on(void)
{
	return dir_fd >= 0;
}

unsigned bsw_pcache_verify_every(void)
{
	return verify_every;
}

static void file_name(const struct bsw_pc_id *id, char out[32])
{
	uint8_t b[16];
	unsigned i;

	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(id->dev >> (8 * i));
		b[8 + i] = (uint8_t)(id->ino >> (8 * i));
	}
	snprintf(out, 32, "%016" PRIx64 ".bswc",
		 (uint64_t)XXH3_64bits_withSeed(b, 16, PC_NAME_SEED));
}

static void count(uint64_t *c, uint64_t n)
{
	pthread_mutex_lock(&pc_lock);
	*c += n;
	pthread_mutex_unlock(&pc_lock);
}

static void warn(const char *name, const char *why)
{
	fprintf(stderr, "bootsweep: --cache %s/%s: %s; ignored\n", dir_path, name, why);
	count(&pst.corrupt, 1);
}

static void put_id(struct bsw_pc_buf *b, const struct bsw_pc_id *id)
{
	bsw_pc_put_le(b, id->dev, 8);
	bsw_pc_put_le(b, id->ino, 8);
	bsw_pc_put_le(b, id->size, 8);
	bsw_pc_put_le(b, (uint64_t)id->mtime_ns, 8);
	bsw_pc_put(b, id->id, 16);
}

/* ---- loading ---- */

struct decoded {
	enum bsw_share_kind kind;
	const uint8_t *key;
	size_t klen, vlen;
	void *val;
	void (*free_fn)(void *);
};

static void free_decoded(struct decoded *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		d[i].free_fn(d[i].val);
	free(d);
}

/* Read the whole file; NULL when absent (silently) or unreadable (with a warning). */
static uint8_t *read_all(const char *name, uint64_t max, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT)
			warn(name, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < PC_HDR + 8 ||
	    (uint64_t)st.st_size > max) {
		warn(name,
		     "not a regular file, or shorter than a header, or larger than --share-mem");
		close(fd);
		return NULL;
	}
	b = malloc((size_t)st.st_size);
	while (b && got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			free(b);
			b = NULL;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (!b)
		warn(name, "unreadable or out of memory");
	*len = got;
	return b;
}

size_t bsw_pcache_load(const struct bsw_pc_id *id, uint64_t max, bsw_pc_add_fn add, void *ctx)
{
	struct bsw_pc_buf want = { 0 };
	struct bsw_pc_rd r;
	struct decoded *d = NULL;
	size_t len = 0, alloc = 0, nr = 0, i;
	uint64_t n, sum;
	char name[32];
	uint8_t *b;

	if (dir_fd < 0)
		return 0;
	file_name(id, name);
	b = read_all(name, max, &len);
	if (!b)
		return 0;
	r = (struct bsw_pc_rd){ b + len - 8, b + len, false };
	sum = bsw_pc_get_le(&r, 8);
	if (sum != XXH3_64bits(b, len - 8)) {
		warn(name, "checksum mismatch (truncated or damaged)");
		goto out;
	}
	r = (struct bsw_pc_rd){ b, b + len - 8, false };
	if (memcmp(bsw_pc_get(&r, 8), PC_MAGIC, 8)) {
		warn(name, "not a bootsweep cache file");
		goto out;
	}
	/* another format or schema, or another identity: results of no use */
	put_id(&want, id);
	if (bsw_pc_get_le(&r, 4) != PC_FORMAT || bsw_pc_get_le(&r, 4) != BSW_PCACHE_SCHEMA ||
	    want.err || memcmp(bsw_pc_get(&r, want.len), want.p, want.len)) {
		count(&pst.stale, 1);
		goto out;
	}
	n = bsw_pc_get_le(&r, 8);
	/* every entry takes at least 9 bytes: a count past that is forged */
	if (n > (uint64_t)(r.end - r.p) / 9) {
		warn(name, "entry count past the file's end");
		goto out;
	}
	for (i = 0; i < n; i++) {
		enum bsw_share_kind kind = (enum bsw_share_kind)bsw_pc_get_le(&r, 1);
		size_t klen = (size_t)bsw_pc_get_le(&r, 4), vlen = (size_t)bsw_pc_get_le(&r, 4);
		const uint8_t *key = klen <= PC_MAX_KEY ? bsw_pc_get(&r, klen) : NULL;
		const struct bsw_share_codec *c = bsw_pcache_codec_of(kind);
		struct bsw_pc_rd v = { r.p, NULL, false };

		if (!key || !c || !bsw_pc_get(&r, vlen)) {
			warn(name, "an entry is out of bounds or of an unknown kind");
			goto out;
		}
		v.end = v.p + vlen;
		if (bsw_vec_reserve(&d, &alloc, nr + 1, sizeof(*d), n))
			goto out;
		d[nr] = (struct decoded){ .kind = kind, .key = key, .klen = klen };
		if (c->load(&v, &d[nr].val, &d[nr].vlen, &d[nr].free_fn)) {
			warn(name, "an entry does not decode");
			goto out;
		}
		nr++;
		if (v.bad || v.p != v.end) {
			warn(name, "an entry does not decode to its length");
			goto out;
		}
	}
	if (r.p != r.end) {
		warn(name, "bytes after the last entry");
		goto out;
	}
	/* checked whole: now hand the values over */
	for (i = 0; i < nr; i++)
		add(ctx, d[i].kind, d[i].key, d[i].klen, d[i].val, d[i].vlen, d[i].free_fn);
	free(d);
	d = NULL;
	pthread_mutex_lock(&pc_lock);
	pst.files_loaded++;
	pst.loaded += nr;
	pthread_mutex_unlock(&pc_lock);
out:
	if (d)
		free_decoded(d, nr);
	free(want.p);
	free(b);
	return d ? 0 : nr;
}

/* ---- saving ---- */

struct bsw_pc_file {
	struct bsw_pc_id id;
	struct bsw_pc_buf b;
	uint64_t nr;
};

struct bsw_pc_file *bsw_pcache_begin(const struct bsw_pc_id *id)
{
	struct bsw_pc_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->id = *id;
	bsw_pc_put(&f->b, PC_MAGIC, 8);
	bsw_pc_put_le(&f->b, PC_FORMAT, 4);
	bsw_pc_put_le(&f->b, BSW_PCACHE_SCHEMA, 4);
	put_id(&f->b, id);
	bsw_pc_put_le(&f->b, 0, 8); /* the count, set by commit */
	return f;
}

void bsw_pcache_add(struct bsw_pc_file *f, enum bsw_share_kind kind, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	const struct bsw_share_codec *c = bsw_pcache_codec_of(kind);
	size_t at, vat;
	unsigned i;

	if (!f || !c || klen > PC_MAX_KEY || f->b.err)
		return;
	at = f->b.len;
	bsw_pc_put_le(&f->b, (uint64_t)kind, 1);
	bsw_pc_put_le(&f->b, klen, 4);
	bsw_pc_put_le(&f->b, 0, 4); /* the value's length, below */
	bsw_pc_put(&f->b, key, klen);
	vat = f->b.len;
	c->save(val, vlen, &f->b);
	if (f->b.err || f->b.len - vat > UINT32_MAX) {
		f->b.len = at; /* this one is not kept; the others are */
		f->b.err = false;
		return;
	}
	vlen = f->b.len - vat;
	for (i = 0; i < 4; i++) /* the u32 after the kind and the key's length */
		f->b.p[at + 5 + i] = (uint8_t)(vlen >> (8 * i));
	f->nr++;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int bsw_pcache_commit(struct bsw_pc_file *f)
{
	char name[32], tmp[96];
	uint64_t sum;
	unsigned i, seq;
	int fd, r;

	if (!f)
		return -ENOMEM;
	if (dir_fd < 0 || f->b.err) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < 8; i++)
		f->b.p[PC_HDR - 8 + i] = (uint8_t)(f->nr >> (8 * i));
	sum = XXH3_64bits(f->b.p, f->b.len);
	bsw_pc_put_le(&f->b, sum, 8);
	if (f->b.err) {
		r = -ENOMEM;
		goto out;
	}
	file_name(&f->id, name);
	pthread_mutex_lock(&pc_lock);
	seq = tmp_seq++;
	pthread_mutex_unlock(&pc_lock);
	/* never visible half-written: a new file, synced, then renamed over */
	snprintf(tmp, sizeof(tmp), ".%s.%ld.%u.tmp", name, (long)getpid(), seq);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, f->b.p, f->b.len);
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && renameat(dir_fd, tmp, dir_fd, name))
		r = -errno;
	if (r)
		unlinkat(dir_fd, tmp, 0);
	else
		fsync(dir_fd);
out:
	pthread_mutex_lock(&pc_lock);
	if (r) {
		pst.errors++;
	} else {
		pst.files_saved++;
		pst.saved += f->nr;
	}
	pthread_mutex_unlock(&pc_lock);
	if (r)
		fprintf(stderr, "bootsweep: --cache %s: cannot write a layer's results: %s\n",
			dir_path ? dir_path : "", strerror(-r));
	free(f->b.p);
	free(f);
	return r;
}

void bsw_pcache_mismatch(const struct bsw_pc_id *id, enum bsw_share_kind kind)
{
	char name[32];

	file_name(id, name);
	fprintf(stderr,
		"bootsweep: --verify-cache %s/%s: a kept result (kind %u) differs from the "
		"recomputed one; the layer's kept results are dropped and written again\n",
		dir_path ? dir_path : "", name, (unsigned)kind);
	count(&pst.mismatched, 1);
}

void bsw_pcache_verified(void)
{
	count(&pst.verified, 1);
}

void bsw_pcache_stats(struct bsw_pc_stats *s)
{
	pthread_mutex_lock(&pc_lock);
	*s = pst;
	pthread_mutex_unlock(&pc_lock);
}
