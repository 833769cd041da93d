/*
 * WinSxS checks (WINDOWS-EVIDENCE.md section 5): store layout, manifest
 * format, COMPONENTS S256H against the SHA-256 of each plain manifest, the
 * SHA-256 of every projected file against its manifest DigestValue, the
 * hard links between System32 and the component folders, and compressed
 * containers where a PE should be.  DCM manifests cannot be decoded
 * (PA30 delta against wcp.dll's base manifest): they are counted as not
 * verifiable, and the output says how much of the store was verified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/common/sha.h"
#include "formats/common/vec.h"
#include "formats/sxs/sxs.h"
#include "scanner/checks/triage.h"
#include "scanner/pcache.h"
#include "scanner/share.h"

#define MAX_CACHED_FILE (256u << 20) /* larger files stream, uncached */
#define MAX_HASHED_FILE (4ull << 30)
#define CHUNK (1u << 20)
#define UNDECODED_WHY                                                                              \
	"EFS encryption, a WOF provider or algorithm other than the file provider's XPRESS 4K/8K/16K and LZX, or an unsupported compression unit"

struct names {
	char **v;
	size_t nr, alloc;
	bool capped;
};

static int collect(void *arg, uint64_t child, const char *name)
{
	struct names *n = arg;

	if (n->nr >= BSW_MAX_MANIFESTS) {
		n->capped = true;
		return 1;
	}
	if (bsw_vec_reserve(&n->v, &n->alloc, n->nr + 1, sizeof(*n->v), BSW_MAX_MANIFESTS))
		return 1;
	n->v[n->nr] = strdup(name);
	if (n->v[n->nr])
		n->nr++;
	return 0;
}

static void names_free(struct names *n)
{
	size_t i;

	for (i = 0; i < n->nr; i++)
		free(n->v[i]);
	free(n->v);
}

/* Streamed digest for files too large to cache. */
static int hash_stream(struct bsw_tctx *t, uint64_t rec, uint64_t size, int alg, uint8_t out[32])
{
	struct bsw_sha *c;
	uint8_t *buf;
	uint64_t off = 0;
	int r;

	r = bsw_sha_create(&c, alg);
	if (r)
		return r;
	buf = malloc(CHUNK);
	if (!buf) {
		bsw_sha_destroy(c);
		return -ENOMEM;
	}
	bsw_mem_acquire(CHUNK);
	while (off < size) {
		int64_t got = bsw_ntfs_read(t->v, rec, NULL, buf,
					    (size_t)BSW_MIN((uint64_t)CHUNK, size - off), off);

		if (got <= 0) {
			r = got < 0 ? (int)got : -EIO;
			break;
		}
		r = bsw_sha_update(c, buf, (size_t)got);
		if (r)
			break;
		off += (uint64_t)got;
		if (bsw_tctx_over(t)) {
			r = -EINTR;
			break;
		}
	}
	if (!r && bsw_sha_final(c, out) < 0)
		r = -EINVAL;
	bsw_sha_destroy(c);
	free(buf);
	bsw_mem_release(CHUNK);
	return r;
}

/*
 * Digest of a file: whole-file read, XXH3-128 keyed cache, then SHA.
 * *sig gets a container signature if the file starts with one.
 */
static int digest_of(struct bsw_tctx *t, uint64_t rec, uint64_t size, int alg, uint8_t out[32],
		     const char **sig)
{
	uint8_t *d = NULL, key[16];
	size_t len;
	int r;

	*sig = NULL;
	if (size > MAX_CACHED_FILE) {
		uint8_t head[4];

		if (bsw_ntfs_read(t->v, rec, NULL, head, 4, 0) == 4)
			*sig = bsw_sxs_container_sig(head, 4);
		return hash_stream(t, rec, size, alg, out);
	}
	bsw_mem_acquire(size);
	r = bsw_ntfs_read_all(t->v, rec, NULL, &d, &len, MAX_CACHED_FILE);
	if (r) {
		bsw_mem_release(size);
		return r;
	}
	*sig = bsw_sxs_container_sig(d, len);
	bsw_xxh128(d, len, key);
	if (bsw_hcache_get(key, len, alg, out)) {
		t->store->files_cached++;
	} else {
		r = bsw_sha_buf(alg, d, len, out) > 0 ? 0 : -EINVAL;
		if (!r)
			bsw_hcache_put(key, len, alg, out);
	}
	free(d);
	bsw_mem_release(size);
	return r;
}

/* A file's digest kept for the other disks of the sweep (share.h). */
struct kept_digest {
	uint8_t dig[32];
	const char *sig; /* bsw_sxs_container_sig's static string, or NULL */
};

/*
 * The digest of a file, computed once per family: a file whose bytes all
 * come from a parent layer gets the digest another disk computed from the
 * same bytes (the key covers its metadata and the origin of every run).
 */
static int file_digest(struct bsw_tctx *t, uint64_t rec, uint64_t size, int alg, uint8_t out[32],
		       const char **sig)
{
	struct bsw_share_key sk;
	struct kept_digest k;
	uint64_t tok;
	int r;

	tok = bsw_tctx_share_key(t, rec, BSW_SHARE_DIGEST, (uint32_t)alg, &sk);
	if (tok && bsw_share_get_copy(tok, BSW_SHARE_DIGEST, &sk, sizeof(sk), &k, sizeof(k)) ==
			   sizeof(k)) {
		memcpy(out, k.dig, 32);
		*sig = k.sig;
		t->store->files_cached++;
		return 0;
	}
	r = digest_of(t, rec, size, alg, out, sig);
	if (tok && !r && !t->limited && !bsw_disk_io_error(t->d, NULL)) {
		memcpy(k.dig, out, 32);
		k.sig = *sig;
		bsw_share_insert(tok, BSW_SHARE_DIGEST, &sk, sizeof(sk), &k, sizeof(k), NULL, NULL);
	}
	return r;
}

static void check_file(struct bsw_tctx *t, const char *keyform, const struct bsw_sxs_file *f,
		       const char *mpath)
{
	char path[600], copy[700];
	struct bsw_ntfs_stat st;
	uint64_t rec, crec;
	uint8_t dig[32];
	const char *sig;
	bool boot;
	int alg, r;

	if (bsw_sxs_expand(f->dest, f->name, path, sizeof(path)))
		return;
	if (bsw_ntfs_lookup(t->v, path, &rec) || bsw_ntfs_stat(t->v, rec, &st) ||
	    (st.rflags & BSW_NTFS_R_DIR)) {
		t->store->files_missing++;
		return;
	}
	boot = bsw_tctx_is_bootfile(t, path);
	/* projection is by hard link (cbs-docs "Primitive Installers") */
	snprintf(copy, sizeof(copy), "\\Windows\\WinSxS\\%s\\%s", keyform, f->name);
	if (!bsw_ntfs_lookup(t->v, copy, &crec) && crec != rec) {
		t->store->links_bad++;
		BSW_REPORT(t->fx, PR_SXS_2_LINK, .str = path, .str2 = copy, .rec = rec);
	}
	alg = f->alg == BSW_SXS_ALG_SHA256 ? BSW_SHA256 : f->alg == BSW_SXS_ALG_SHA1 ? BSW_SHA1 : 0;
	if (!alg || f->digest_len != bsw_sha_len(alg) || t->o->no_store ||
	    st.size > MAX_HASHED_FILE) {
		t->store->files_nodigest++;
		return;
	}
	r = file_digest(t, rec, st.size, alg, dig, &sig);
	if (sig)
		BSW_REPORT(t->fx, boot ? PR_SXS_2_CONT_BOOT : PR_SXS_2_CONT, .str = path,
			   .str2 = sig, .rec = rec);
	if (r) {
		if (r == -EOPNOTSUPP)
			BSW_REPORT(t->fx, PR_SXS_2_UNDECODED, .str = path, .str2 = UNDECODED_WHY,
				   .rec = rec);
		t->store->files_nodigest++;
		return;
	}
	t->store->files_checked++;
	if (!memcmp(dig, f->digest, f->digest_len)) {
		t->store->files_ok++;
		return;
	}
	t->store->files_bad++;
	if (!sig)
		BSW_REPORT(t->fx, boot ? PR_SXS_2_HASH_BOOT : PR_SXS_2_HASH, .str = path,
			   .str2 = mpath, .rec = rec);
}

/*
 * What the checks take from a manifest's bytes: its kind, its SHA-256 (for
 * COMPONENTS' S256H) and its parse.  Kept for the other disks of the sweep
 * when the manifest's bytes come from a parent layer; what depends on the
 * disk (the hive's S256H, the projected files) is judged by each disk.
 */
struct mfacts {
	enum bsw_sxs_kind kind;
	uint32_t head; /* first 4 bytes, big-endian (0: shorter) */
	bool have_sha;
	uint8_t sha[32];
	int r; /* bsw_sxs_parse_manifest's */
	char why[160];
	struct bsw_sxs_manifest *m;
};

static void mfacts_free(void *p)
{
	struct mfacts *f = p;

	bsw_sxs_manifest_free(f->m);
	free(f);
}

static void mfacts_make(const uint8_t *d, size_t len, bool want_sha, struct mfacts *f)
{
	const char *why = "";

	memset(f, 0, sizeof(*f));
	f->kind = bsw_sxs_kind(d, len);
	f->head = len >= 4 ? get_be32(d) : 0;
	if (f->kind != BSW_SXS_XML)
		return;
	/* S256H: SHA-256 of the uncompressed manifest (3.3) */
	f->have_sha = want_sha && bsw_sha_buf(BSW_SHA256, d, len, f->sha) == 32;
	f->r = bsw_sxs_parse_manifest(d, len, &f->m, &why);
	snprintf(f->why, sizeof(f->why), "%s", why ? why : "");
}

static void check_manifest(struct bsw_tctx *t, bsw_hkey comps, const char *name)
{
	char path[600], keyform[400];
	bsw_hkey k;
	struct bsw_share_ent *e = NULL;
	struct bsw_hval v = { 0 };
	const struct mfacts *f;
	struct mfacts *mine = NULL;
	struct bsw_share_key sk;
	uint64_t rec, tok = 0;
	size_t len, nl = strlen(name);
	uint8_t *d;
	unsigned i;
	int r;

	if (nl <= 9 || strcasecmp(name + nl - 9, ".manifest") || nl - 9 >= sizeof(keyform))
		return;
	memcpy(keyform, name, nl - 9);
	keyform[nl - 9] = 0;
	snprintf(path, sizeof(path), "\\Windows\\WinSxS\\Manifests\\%s", name);
	t->store->manifests++;
	if (!bsw_ntfs_lookup(t->v, path, &rec))
		tok = bsw_tctx_share_key(t, rec, BSW_SHARE_MANIFEST, 0, &sk);
	if (tok)
		e = bsw_share_get(tok, BSW_SHARE_MANIFEST, &sk, sizeof(sk));
	if (!e) {
		r = bsw_tctx_read(t, t->v, path, &d, &len, BSW_MAX_MANIFEST_BYTES);
		if (r) {
			t->store->bad++;
			if (r != -EFBIG || !t->limited)
				BSW_REPORT(t->fx, PR_SXS_1_MXML, .str = path,
					   .str2 = r == -EFBIG ? "larger than the cap" :
								 "unreadable");
			return;
		}
		mine = malloc(sizeof(*mine));
		if (!mine) {
			bsw_tctx_free(d, len);
			return;
		}
		/* the SHA only when it will be compared: here, or by a sibling */
		mfacts_make(d, len, tok || t->components, mine);
		bsw_tctx_free(d, len);
		if (tok && !t->limited && !bsw_disk_io_error(t->d, NULL) &&
		    bsw_share_insert(
			    tok, BSW_SHARE_MANIFEST, &sk, sizeof(sk), mine,
			    sizeof(*mine) +
				    (mine->m ? mine->m->nr_files * sizeof(*mine->m->files) : 0),
			    mfacts_free, &e))
			mine = NULL; /* the cache's now; e holds a reference */
	}
	f = e ? bsw_share_val(e, NULL) : mine;
	switch (f->kind) {
	case BSW_SXS_DCM: t->store->dcm++; goto out;
	case BSW_SXS_XML: break;
	default:
		t->store->bad++;
		BSW_REPORT(t->fx, PR_SXS_1_MFMT, .str = path, .n = f->head);
		goto out;
	}
	if (comps && !bsw_hive_key(t->components, comps, keyform, &k)) {
		if (!bsw_hive_value(t->components, k, "S256H", &v)) {
			if (v.len == 32 && f->have_sha) {
				t->store->s256h_checked++;
				if (memcmp(f->sha, v.data, 32)) {
					t->store->s256h_bad++;
					BSW_REPORT(t->fx, PR_SXS_1_S256H, .str = keyform,
						   .str2 = path);
				}
			}
			bsw_hval_free(&v);
		}
	}
	if (f->r) {
		t->store->bad++;
		BSW_REPORT(t->fx, PR_SXS_1_MXML, .str = path, .str2 = f->why);
		goto out;
	}
	t->store->plain++;
	for (i = 0; i < f->m->nr_files && !bsw_tctx_over(t); i++)
		check_file(t, keyform, &f->m->files[i], path);
out:
	if (e)
		bsw_share_unref(e);
	if (mine)
		mfacts_free(mine);
}

void bsw_check_sxs(struct bsw_tctx *t)
{
	struct names n = { 0 };
	bsw_hkey comps = 0;
	uint64_t rec;
	size_t i;

	if (bsw_ntfs_lookup(t->v, "\\Windows\\WinSxS", &rec)) {
		BSW_REPORT(t->fx, PR_SXS_0_LAYOUT, .str = "(the store itself)");
		return;
	}
	/* the signed catalogs (named by their SHA-256) live beside the manifests */
	if (bsw_ntfs_lookup(t->v, "\\Windows\\WinSxS\\Catalogs", &rec))
		BSW_REPORT(t->fx, PR_SXS_0_LAYOUT, .str = "Catalogs");
	if (bsw_ntfs_lookup(t->v, "\\Windows\\WinSxS\\Manifests", &rec)) {
		BSW_REPORT(t->fx, PR_SXS_0_LAYOUT, .str = "Manifests");
		return;
	}
	/* COMPONENTS\DerivedData\Components\<keyform> holds each S256H */
	if (t->components && bsw_hive_key(t->components, bsw_hive_root(t->components),
					  "DerivedData\\Components", &comps))
		comps = 0;
	bsw_ntfs_readdir(t->v, rec, collect, &n);
	for (i = 0; i < n.nr && !bsw_tctx_over(t); i++)
		check_manifest(t, comps, n.v[i]);
	names_free(&n);
}

/*
 * The digests and manifests kept across runs (scan --cache; pcache.h).
 * Their bytes are hostile when read back: every field is checked against
 * what the checks above rely on, and a container signature is taken back
 * to bsw_sxs_container_sig's own string.
 */
static void digest_save(const void *val, size_t vlen, struct bsw_pc_buf *b)
{
	const struct kept_digest *k = val;

	bsw_pc_put(b, k->dig, 32);
	bsw_pc_put_str(b, k->sig);
}

static int digest_load(struct bsw_pc_rd *r, void **val, size_t *vlen, void (**free_fn)(void *))
{
	struct kept_digest *k = malloc(sizeof(*k));
	const uint8_t *d = bsw_pc_get(r, 32);
	uint8_t sig[4] = { 0 };
	char s[4];

	if (!k)
		return -ENOMEM;
	bsw_pc_get_str(r, s, sizeof(s));
	if (!d || r->bad || (s[0] && strlen(s) != 3)) {
		free(k);
		return -EINVAL;
	}
	memcpy(k->dig, d, 32);
	k->sig = NULL;
	if (s[0]) {
		memcpy(sig, s, 3);
		sig[3] = 0x01;
		k->sig = bsw_sxs_container_sig(sig, 4);
		if (!k->sig) {
			free(k);
			return -EINVAL;
		}
	}
	*val = k;
	*vlen = sizeof(*k);
	*free_fn = free;
	return 0;
}

static void manifest_save(const void *val, size_t vlen, struct bsw_pc_buf *b)
{
	const struct mfacts *f = val;
	const struct bsw_sxs_manifest *m = f->m;
	unsigned i;

	bsw_pc_put_le(b, f->kind, 1);
	bsw_pc_put_le(b, f->head, 4);
	bsw_pc_put_le(b, f->have_sha, 1);
	bsw_pc_put(b, f->sha, 32);
	bsw_pc_put_le(b, (uint32_t)f->r, 4);
	bsw_pc_put_str(b, f->why);
	bsw_pc_put_le(b, m != NULL, 1);
	if (!m)
		return;
	bsw_pc_put_str(b, m->name);
	bsw_pc_put_str(b, m->version);
	bsw_pc_put_str(b, m->arch);
	bsw_pc_put_str(b, m->language);
	bsw_pc_put_str(b, m->token);
	bsw_pc_put_le(b, m->nr_files, 4);
	bsw_pc_put_le(b, m->nr_files_seen, 4);
	for (i = 0; i < m->nr_files; i++) {
		const struct bsw_sxs_file *x = &m->files[i];

		bsw_pc_put_str(b, x->name);
		bsw_pc_put_str(b, x->dest);
		bsw_pc_put_le(b, x->alg, 1);
		bsw_pc_put_le(b, x->digest_len, 1);
		bsw_pc_put(b, x->digest, 32);
	}
}

static int manifest_load(struct bsw_pc_rd *r, void **val, size_t *vlen, void (**free_fn)(void *))
{
	struct mfacts *f = calloc(1, sizeof(*f));
	struct bsw_sxs_manifest *m;
	const uint8_t *sha;
	bool has_m;
	unsigned i;

	if (!f)
		return -ENOMEM;
	f->kind = (enum bsw_sxs_kind)bsw_pc_get_le(r, 1);
	f->head = (uint32_t)bsw_pc_get_le(r, 4);
	f->have_sha = bsw_pc_get_le(r, 1) != 0;
	sha = bsw_pc_get(r, 32);
	if (sha)
		memcpy(f->sha, sha, 32);
	f->r = (int32_t)(uint32_t)bsw_pc_get_le(r, 4);
	bsw_pc_get_str(r, f->why, sizeof(f->why));
	has_m = bsw_pc_get_le(r, 1) != 0;
	/* a parse exactly when check_manifest reads one: plain XML parsed */
	if (r->bad || f->kind > BSW_SXS_UNKNOWN || f->r > 0 || f->r < -4095 ||
	    has_m != (f->kind == BSW_SXS_XML && !f->r))
		goto bad;
	if (has_m) {
		f->m = m = calloc(1, sizeof(*m));
		if (!m)
			goto bad;
		bsw_pc_get_str(r, m->name, sizeof(m->name));
		bsw_pc_get_str(r, m->version, sizeof(m->version));
		bsw_pc_get_str(r, m->arch, sizeof(m->arch));
		bsw_pc_get_str(r, m->language, sizeof(m->language));
		bsw_pc_get_str(r, m->token, sizeof(m->token));
		m->nr_files = (unsigned)bsw_pc_get_le(r, 4);
		m->nr_files_seen = (unsigned)bsw_pc_get_le(r, 4);
		if (r->bad || m->nr_files > BSW_MAX_SXS_FILES)
			goto bad;
		m->files = calloc(m->nr_files ? m->nr_files : 1, sizeof(*m->files));
		if (!m->files)
			goto bad;
		for (i = 0; i < m->nr_files && !r->bad; i++) {
			struct bsw_sxs_file *x = &m->files[i];
			const uint8_t *d;

			bsw_pc_get_str(r, x->name, sizeof(x->name));
			bsw_pc_get_str(r, x->dest, sizeof(x->dest));
			x->alg = (enum bsw_sxs_alg)bsw_pc_get_le(r, 1);
			x->digest_len = (unsigned)bsw_pc_get_le(r, 1);
			d = bsw_pc_get(r, 32);
			if (d)
				memcpy(x->digest, d, 32);
			if (x->alg > BSW_SXS_ALG_SHA256 || x->digest_len > 32)
				r->bad = true;
		}
		if (r->bad)
			goto bad;
	}
	*val = f;
	*vlen = sizeof(*f) + (f->m ? f->m->nr_files * sizeof(*f->m->files) : 0);
	*free_fn = mfacts_free;
	return 0;
bad:
	mfacts_free(f);
	return -EINVAL;
}

void bsw_sxs_share_codecs(void)
{
	static const struct bsw_share_codec digest = { digest_save, digest_load };
	static const struct bsw_share_codec manifest = { manifest_save, manifest_load };

	bsw_pcache_codec(BSW_SHARE_DIGEST, &digest);
	bsw_pcache_codec(BSW_SHARE_MANIFEST, &manifest);
}
