/*
 * BCD interpretation: a store made with hivexsh (from the corpus' minimal
 * hive, copied into the build tree) with {bootmgr}, a default loader and its
 * elements; then a store whose default points nowhere; and first the
 * 88-byte partition device element, decoded alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/bcd/bcd.h"
#include "formats/common/bytes.h"
#include "t_helpers.h"

#define LOADER "{c0ffee00-1234-4abc-8def-0123456789ab}"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	b = malloc(n);
	if (b && fread(b, 1, n, fp) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	*len = n;
	return b;
}

static int make(const char *out, const char *dflt)
{
	char cmd[4096];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "cp %s/hivex/images/minimal %s && chmod 644 %s && hivexsh -w %s >/dev/null",
		 BSW_CORPUS, out, out, out);
	p = popen(cmd, "w");
	if (!p)
		return -1;
	fprintf(p,
		"add Objects\ncd Objects\nadd {9dea862c-5cdd-4e70-acc1-f32b344d4795}\n"
		"cd {9dea862c-5cdd-4e70-acc1-f32b344d4795}\nadd Description\nadd Elements\n"
		"cd Description\nsetval 1\nType\ndword:0x10100002\n"
		"cd ..\\Elements\nadd 23000003\ncd 23000003\nsetval 1\nElement\nstring:%s\n"
		"cd \\Objects\nadd " LOADER "\ncd " LOADER "\nadd Description\nadd Elements\n"
		"cd Description\nsetval 1\nType\ndword:0x10200003\n"
		"cd ..\\Elements\nadd 12000002\nadd 22000002\nadd 21000001\n"
		"cd 12000002\nsetval 1\nElement\nstring:\\Windows\\system32\\winload.efi\n"
		"cd ..\\22000002\nsetval 1\nElement\nstring:\\Windows\n"
		"cd ..\\21000001\nsetval 1\nElement\nhex:3:"
		"00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,06,00,00,00,00,00,00,00,48,00,00,00,00,00,00,00,"
		"66,66,66,66,77,77,88,48,99,99,aa,aa,aa,aa,aa,aa,00,00,00,00,00,00,00,00,"
		"0e,8e,4b,5c,2b,1a,3d,4c,8e,9f,00,11,22,33,aa,bb,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00,00\n"
		"commit\n",
		dflt);
	return pclose(p);
}

/* The device element alone (pure): each scheme's fields, hostile lengths. */
static void test_device(void)
{
	struct bsw_bcd_device dv;
	uint8_t blob[88] = { 0 };

	/* device elements: truncated, wrong scheme, MBR, GPT, other kinds */
	bsw_bcd_parse_device(blob, 10, &dv);
	T_CHECK(dv.present && !dv.valid, "short device");
	put_le32(blob + 16, 6);
	put_le32(blob + 24, 0x48);
	put_le32(blob + 52, 7);
	bsw_bcd_parse_device(blob, 88, &dv);
	T_CHECK(!dv.valid, "bad scheme");
	put_le32(blob + 52, 1);
	put_le64(blob + 32, 1048576);
	put_le32(blob + 56, 0xdeadbeef);
	put_le32(blob + 60, 0x55555555); /* past the signature: ignored */
	bsw_bcd_parse_device(blob, 88, &dv);
	T_CHECK(dv.valid && dv.type == BSW_BCD_DEV_PARTITION && dv.scheme == BSW_BCD_PART_MBR,
		"mbr");
	T_CHECK(dv.part_offset == 1048576, "mbr offset %llu", (unsigned long long)dv.part_offset);
	T_CHECK(dv.disk_signature == 0xdeadbeef, "mbr signature %#x", dv.disk_signature);
	T_CHECK(memcmp(dv.part_guid, (uint8_t[16]){ 0 }, 16) == 0 &&
			memcmp(dv.disk_guid, (uint8_t[16]){ 0 }, 16) == 0,
		"mbr: no GUIDs");
	put_le32(blob + 52, 0);
	for (unsigned i = 0; i < 16; i++) {
		blob[32 + i] = (uint8_t)(0x10 + i);
		blob[56 + i] = (uint8_t)(0xa0 + i);
	}
	bsw_bcd_parse_device(blob, 88, &dv);
	T_CHECK(dv.valid && dv.scheme == BSW_BCD_PART_GPT, "gpt");
	T_CHECK(dv.part_guid[0] == 0x10 && dv.part_guid[15] == 0x1f && dv.disk_guid[0] == 0xa0 &&
			dv.disk_guid[15] == 0xaf,
		"gpt guids");
	T_CHECK(dv.part_offset == 0 && dv.disk_signature == 0, "gpt: no MBR fields");
	/* hostile lengths: the element ends inside the disk id, or the
	 * length field claims more than the element holds */
	bsw_bcd_parse_device(blob, 71, &dv);
	T_CHECK(dv.present && !dv.valid, "ends in the disk id");
	put_le32(blob + 24, 0xfffffff0);
	bsw_bcd_parse_device(blob, 88, &dv);
	T_CHECK(!dv.valid, "length past the element");
	put_le32(blob + 24, 0x20);
	bsw_bcd_parse_device(blob, 88, &dv);
	T_CHECK(!dv.valid, "length too small");
	put_le32(blob + 24, 0x48);
	put_le32(blob + 16, BSW_BCD_DEV_BOOT);
	bsw_bcd_parse_device(blob, 88, &dv);
	T_CHECK(dv.valid && dv.type == BSW_BCD_DEV_BOOT && dv.part_offset == 0 &&
			dv.part_guid[0] == 0,
		"boot device: kind only");
}

int main(void)
{
	char path[512];
	struct bsw_hive *h;
	struct bsw_bcd b;
	uint8_t *d;
	size_t len;
	char g[48];

	test_device();
	snprintf(path, sizeof(path), "%s/hivex/images/minimal", BSW_CORPUS);
	if (system("command -v hivexsh >/dev/null") || !fopen(path, "rb")) {
		fprintf(stderr, "no hivexsh or no corpus (%s): stores not tested\n", path);
		return t_failures ? T_DONE() : T_EXIT_SKIP;
	}
	snprintf(path, sizeof(path), "%s/triage-bcd.hive", BSW_BINDIR);
	T_CHECK(make(path, LOADER) == 0, "hivexsh");
	d = slurp(path, &len);
	T_CHECK(d != NULL, "read hive");
	if (!d)
		return T_DONE();
	T_CHECK(bsw_hive_load(&h, d, len, NULL, 0, NULL) == 0, "load");
	T_CHECK(bsw_bcd_parse(h, &b) == 0, "parse");
	T_CHECK(b.bootmgr.present && b.bootmgr.type == BSW_BCD_TYPE_BOOTMGR, "bootmgr");
	T_CHECK(!strcasecmp(b.default_guid, LOADER), "default %s", b.default_guid);
	T_CHECK(b.def.present && b.def.type == BSW_BCD_TYPE_LOADER, "loader");
	T_CHECK(!strcmp(b.def.path, "\\Windows\\system32\\winload.efi"), "path %s", b.def.path);
	T_CHECK(!strcmp(b.def.sysroot, "\\Windows"), "sysroot %s", b.def.sysroot);
	T_CHECK(b.def.osdev.present && b.def.osdev.valid && b.def.osdev.type == 6 &&
			b.def.osdev.scheme == 0,
		"osdevice");
	bsw_bcd_guid_str(b.def.osdev.part_guid, g, sizeof(g));
	T_CHECK(!strcmp(g, "{66666666-7777-4888-9999-aaaaaaaaaaaa}"), "partition guid %s", g);
	bsw_bcd_guid_str(b.def.osdev.disk_guid, g, sizeof(g));
	T_CHECK(!strcmp(g, "{5c4b8e0e-1a2b-4c3d-8e9f-00112233aabb}"), "disk guid %s", g);
	T_CHECK(!b.def.dev.present, "no device element");
	T_CHECK(b.nr_loaders == 1, "loaders %u", b.nr_loaders);
	bsw_hive_free(h);
	free(d);

	T_CHECK(make(path, "{00000000-0000-0000-0000-000000000000}") == 0, "hivexsh 2");
	d = slurp(path, &len);
	if (d && !bsw_hive_load(&h, d, len, NULL, 0, NULL)) {
		T_CHECK(bsw_bcd_parse(h, &b) == 0 && !b.def.present && b.nr_loaders == 1,
			"dangling default");
		bsw_hive_free(h);
	}
	free(d);

	/* a real store (regipy's test data, made by Windows) */
	snprintf(path, sizeof(path),
		 "xz -dkc %s/regipy/regipy_tests/data/BCD.xz > %s/triage-bcd-real.hive", BSW_CORPUS,
		 BSW_BINDIR);
	if (!system(path)) {
		snprintf(path, sizeof(path), "%s/triage-bcd-real.hive", BSW_BINDIR);
		d = slurp(path, &len);
		if (d && !bsw_hive_load(&h, d, len, NULL, 0, NULL)) {
			T_CHECK(bsw_bcd_parse(h, &b) == 0, "real: parse");
			T_CHECK(b.bootmgr.present && b.bootmgr.type == BSW_BCD_TYPE_BOOTMGR,
				"real: bootmgr");
			T_CHECK(!strcasecmp(b.default_guid,
					    "{733b62e5-f608-11eb-825c-c112f60133ab}"),
				"real: default %s", b.default_guid);
			T_CHECK(b.def.present && b.def.type == BSW_BCD_TYPE_LOADER,
				"real: loader type %#x", b.def.type);
			T_CHECK(strstr(b.def.path, "winload") != NULL, "real: path %s", b.def.path);
			T_CHECK(b.def.osdev.present && b.def.osdev.valid, "real: osdevice");
			T_CHECK(b.nr_loaders >= 1, "real: loaders %u", b.nr_loaders);
			printf("real BCD: default %s path %s sysroot %s osdevice type %u scheme %u, %u loaders\n",
			       b.default_guid, b.def.path, b.def.sysroot, b.def.osdev.type,
			       b.def.osdev.scheme, b.nr_loaders);
			bsw_hive_free(h);
		}
		free(d);
	}

	return T_DONE();
}
