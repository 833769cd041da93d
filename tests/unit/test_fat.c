/*
 * FAT reader: images made with mkfs.vfat and mtools in the build tree
 * (FAT12, FAT16, FAT32), long names, case-insensitive lookup, file contents,
 * a fragmented file (its chain jumps over another file's clusters, read in
 * runs), and a FAT whose chain loops or points out of range.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/fat/fat.h"
#include "t_helpers.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b = malloc(n ? n : 1);
	if (b && fread(b, 1, n, fp) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	*len = n;
	return b;
}

static int sh(const char *cmd)
{
	int r = system(cmd);

	if (r)
		fprintf(stderr, "command failed (%d): %s\n", r, cmd);
	return r;
}

static void make_payload(const char *path, size_t n)
{
	FILE *fp = fopen(path, "wb");
	size_t i;

	for (i = 0; i < n; i++)
		fputc((int)((i * 7 + i / 251) & 0xFF), fp);
	fclose(fp);
}

static uint32_t fat_get(const uint8_t *img, const struct bsw_fat_bpb *b, uint32_t c)
{
	if (b->type == 32)
		return get_le32(img + b->fat_off + 4ull * c) & 0x0FFFFFFF;
	return get_le16(img + b->fat_off + 2ull * c);
}

static void fat_set(uint8_t *img, const struct bsw_fat_bpb *b, uint32_t c, uint32_t v)
{
	if (b->type == 32)
		put_le32(img + b->fat_off + 4ull * c, v);
	else
		put_le16(img + b->fat_off + 2ull * c, (uint16_t)v);
}

static void check_image(const char *dir, const char *fmt, unsigned fat_bits, unsigned size_kib)
{
	char img[512], cmd[16384], payload[512];
	struct bsw_src src;
	struct bsw_src_mem mem;
	struct bsw_fat *f;
	struct bsw_fat_ent e;
	const char *why;
	uint8_t *data, *want, *got;
	size_t len, wlen, glen;
	int r, n;

	snprintf(img, sizeof(img), "%s/%s.img", dir, fmt);
	snprintf(payload, sizeof(payload), "%s/payload.bin", dir);
	make_payload(payload, 70000);
	n = snprintf(cmd, sizeof(cmd),
		     "rm -f %s && mkfs.vfat -C -F %u %s %u >/dev/null && "
		     "mmd -i %s ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot && "
		     "mcopy -i %s %s ::/EFI/Microsoft/Boot/BCD && "
		     "mcopy -i %s %s ::/EFI/Microsoft/Boot/bootmgfw.efi && "
		     "mcopy -i %s %s '::/EFI/Microsoft/Boot/A long file name with spaces.txt' && "
		     /* frag.bin: the freed gap's clusters, then after big.bin's */
		     "head -c 3000 %s > %s.gap && mcopy -i %s %s.gap ::/gap.bin && "
		     "mcopy -i %s %s ::/big.bin && mdel -i %s ::/gap.bin && "
		     "mcopy -i %s %s ::/frag.bin",
		     img, fat_bits, img, size_kib, img, img, payload, img, payload, img, payload,
		     payload, payload, img, payload, img, payload, img, img, payload);
	if (n < 0 || (size_t)n >= sizeof(cmd) || sh(cmd)) {
		t_failures++;
		return;
	}
	data = slurp(img, &len);
	want = slurp(payload, &wlen);
	T_CHECK(data && want, "read back");
	if (!data || !want)
		return;
	bsw_src_mem_init(&src, &mem, data, len);
	r = bsw_fat_open(&f, &src, NULL, &why);
	T_CHECK(r == 0, "%s: open %d (%s)", fmt, r, why);
	if (r)
		goto out;
	T_CHECK(bsw_fat_bpb(f)->type == fat_bits, "%s: type %u", fmt, bsw_fat_bpb(f)->type);
	r = bsw_fat_lookup(f, "\\efi\\MICROSOFT\\boot\\bcd", &e);
	T_CHECK(r == 0, "%s: lookup BCD %d", fmt, r);
	if (!r) {
		T_CHECK(e.size == wlen, "%s: size %u", fmt, e.size);
		r = bsw_fat_read_all(f, &e, &got, &glen, 1 << 20);
		T_CHECK(r == 0 && glen == wlen && !memcmp(got, want, wlen), "%s: BCD content (%d)",
			fmt, r);
		if (!r)
			free(got);
		r = bsw_fat_read_all(f, &e, &got, &glen, 1000);
		T_CHECK(r == -EFBIG, "%s: cap %d", fmt, r);
	}
	r = bsw_fat_lookup(f, "\\frag.bin", &e);
	T_CHECK(r == 0, "%s: lookup frag.bin %d", fmt, r);
	if (!r && fat_bits != 12) {
		struct bsw_fat_bpb b = *bsw_fat_bpb(f);
		uint32_t c = e.first_cluster, jumps = 0, steps = 0, nx;

		while (c >= 2 && steps++ < 100000) {
			nx = fat_get(data, &b, c);
			if (nx >= (fat_bits == 32 ? 0x0FFFFFF8u : 0xFFF8u))
				break;
			jumps += nx != c + 1;
			c = nx;
		}
		if (!jumps) {
			/* mtools allocated it in one piece (FAT32's next-free
			 * hint): swap its 2nd and 3rd clusters, data and links */
			uint32_t c0 = e.first_cluster, c1 = fat_get(data, &b, c0);
			uint32_t c2 = fat_get(data, &b, c1), c3 = fat_get(data, &b, c2);
			uint8_t *p1 = data + b.data_off + (uint64_t)(c1 - 2) * b.cluster_size;
			uint8_t *p2 = data + b.data_off + (uint64_t)(c2 - 2) * b.cluster_size;
			uint8_t *tmp = malloc(b.cluster_size);

			T_CHECK(tmp && e.size > 3ull * b.cluster_size,
				"%s: frag.bin spans 3 clusters", fmt);
			if (tmp) {
				memcpy(tmp, p1, b.cluster_size);
				memcpy(p1, p2, b.cluster_size);
				memcpy(p2, tmp, b.cluster_size);
				free(tmp);
			}
			fat_set(data, &b, c0, c2);
			fat_set(data, &b, c2, c1);
			fat_set(data, &b, c1, c3);
			bsw_fat_close(f);
			T_CHECK(bsw_fat_open(&f, &src, NULL, &why) == 0, "%s: reopen", fmt);
			jumps = 3;
		}
		T_CHECK(jumps > 0, "%s: frag.bin is fragmented (%u jumps)", fmt, jumps);
		r = bsw_fat_read_all(f, &e, &got, &glen, 1 << 20);
		T_CHECK(r == 0 && glen == wlen && !memcmp(got, want, wlen),
			"%s: fragmented file content (%d)", fmt, r);
		if (!r)
			free(got);
	}
	r = bsw_fat_lookup(f, "/EFI/Microsoft/Boot/bootmgfw.EFI", &e);
	T_CHECK(r == 0 && !strcmp(e.name, "bootmgfw.efi"), "%s: long name %d '%s'", fmt, r,
		r ? "" : e.name);
	r = bsw_fat_lookup(f, "\\EFI\\Microsoft\\Boot\\a LONG file name with spaces.TXT", &e);
	T_CHECK(r == 0, "%s: spaced long name %d", fmt, r);
	T_CHECK(bsw_fat_lookup(f, "\\EFI\\Microsoft\\Boot\\nope", &e) == -ENOENT,
		"%s: missing file", fmt);
	T_CHECK(bsw_fat_lookup(f, "\\EFI\\Microsoft\\Boot\\BCD\\x", &e) == -ENOTDIR,
		"%s: file as a directory", fmt);
	r = bsw_fat_lookup(f, "\\EFI\\Microsoft\\Boot\\BCD", &e);
	bsw_fat_close(f);

	/* make the FAT loop: BCD's second cluster points back to its first */
	if (!r && e.first_cluster) {
		const struct bsw_fat_bpb *b;
		struct bsw_fat_bpb bb;
		uint32_t c = e.first_cluster, c2;

		T_CHECK(bsw_fat_parse_bpb(data, len, len, &bb, &why) == 0, "bpb");
		b = &bb;
		c2 = fat_bits == 12 ? 0 : fat_get(data, b, c);
		if (c2) {
			fat_set(data, b, c2, c);
			T_CHECK(bsw_fat_open(&f, &src, NULL, &why) == 0, "reopen");
			T_CHECK(bsw_fat_read_all(f, &e, &got, &glen, 1 << 20) == -ELOOP,
				"%s: loop detected", fmt);
			bsw_fat_close(f);
			/* out-of-range cluster (the FAT is read at open: open again) */
			fat_set(data, b, c, fat_bits == 32 ? 0x0FFFFFF0 : 0xFFF0);
			T_CHECK(bsw_fat_open(&f, &src, NULL, &why) == 0, "reopen");
			T_CHECK(bsw_fat_read_all(f, &e, &got, &glen, 1 << 20) == -EIO,
				"%s: out of range", fmt);
			bsw_fat_close(f);
		}
	}
	/* a broken BPB is refused with a reason */
	data[11] = 0x33;
	T_CHECK(bsw_fat_open(&f, &src, NULL, &why) == -EINVAL && why[0], "%s: bad BPB refused",
		fmt);
out:
	free(data);
	free(want);
}

int main(void)
{
	char dir[512];

	if (system("command -v mkfs.vfat >/dev/null && command -v mcopy >/dev/null"))
		return T_EXIT_SKIP;
	snprintf(dir, sizeof(dir), "%s/triage-fat", BSW_BINDIR);
	if (sh("mkdir -p " BSW_BINDIR "/triage-fat"))
		return T_EXIT_FAIL;
	check_image(dir, "fat12", 12, 1024);
	check_image(dir, "fat16", 16, 32768);
	check_image(dir, "fat32", 32, 66000);
	return T_DONE();
}
