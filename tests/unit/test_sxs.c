/* WinSxS parsers: manifests (identity, files, digests), DCM recognition,
 * path expansion, folder names, pending.xml and Sessions.xml. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/sxs/sxs.h"
#include "t_helpers.h"

#define L(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static const char manifest[] =
	"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\" manifestVersion=\"1.0\">\n"
	" <assemblyIdentity name=\"Microsoft-Windows-shell32\" version=\"10.0.20348.1\" "
	"processorArchitecture=\"amd64\" language=\"neutral\" publicKeyToken=\"31bf3856ad364e35\"/>\n"
	" <dependency><dependentAssembly><assemblyIdentity name=\"other\" version=\"1.0.0.0\"/>"
	"</dependentAssembly></dependency>\n"
	" <file name=\"shell32.dll\" destinationPath=\"$(runtime.system32)\\\" sourceName=\"shell32.dll\">\n"
	"  <asmv2:hash xmlns:asmv2=\"urn:schemas-microsoft-com:asm.v2\" "
	"xmlns:dsig=\"http://www.w3.org/2000/09/xmldsig#\">\n"
	"   <dsig:Transforms><dsig:Transform Algorithm=\"urn:schemas-microsoft-com:HashTransforms.Identity\"/></dsig:Transforms>\n"
	"   <dsig:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha256\"/>\n"
	"   <dsig:DigestValue>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</dsig:DigestValue>\n"
	"  </asmv2:hash>\n"
	" </file>\n"
	" <file name=\"x.sys\" destinationPath=\"$(runtime.drivers)\"/>\n"
	" <file name=\"inside.txt\"/>\n"
	"</assembly>\n";

/* Real Windows 11 component manifests (UFCase docs): all parse; every
 * digest present decodes to 20 or 32 bytes. */
static void real_manifests(void)
{
	char dir[512], path[1024];
	struct dirent *de;
	unsigned nr = 0, files = 0, dig = 0, i;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/UFCase/docs/manifests", BSW_CORPUS);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct bsw_sxs_manifest *m;
		const char *why;
		uint8_t *buf;
		long n;
		FILE *fp;

		if (strncmp(de->d_name, "comp_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fp = fopen(path, "rb");
		if (!fp)
			continue;
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		buf = malloc(n ? n : 1);
		if (buf && fread(buf, 1, n, fp) == (size_t)n) {
			int r = bsw_sxs_parse_manifest(buf, n, &m, &why);

			T_CHECK(r == 0, "%s: %d %s", de->d_name, r, why);
			if (!r) {
				nr++;
				T_CHECK(m->name[0], "%s: no identity name", de->d_name);
				for (i = 0; i < m->nr_files; i++) {
					files++;
					if (m->files[i].alg) {
						T_CHECK(m->files[i].digest_len == 20 ||
								m->files[i].digest_len == 32,
							"%s: digest length %u", de->d_name,
							m->files[i].digest_len);
						dig++;
					}
				}
				bsw_sxs_manifest_free(m);
			}
		}
		free(buf);
		fclose(fp);
	}
	closedir(d);
	printf("real manifests: %u parsed, %u files, %u with digests\n", nr, files, dig);
	T_CHECK(nr > 0, "no real manifest parsed");
}

int main(void)
{
	struct bsw_sxs_manifest *m;
	struct bsw_sxs_pending p;
	struct bsw_sxs_sessions s;
	struct bsw_sxs_folder f;
	const char *why;
	char path[300];
	uint8_t b[8];
	int r;

	r = bsw_sxs_parse_manifest((const uint8_t *)manifest, sizeof(manifest) - 1, &m, &why);
	T_CHECK(r == 0, "manifest %d %s", r, why);
	if (!r) {
		T_CHECK(!strcmp(m->name, "Microsoft-Windows-shell32"), "name %s", m->name);
		T_CHECK(!strcmp(m->arch, "amd64") && !strcmp(m->token, "31bf3856ad364e35"),
			"identity");
		T_CHECK(m->nr_files == 3, "files %u", m->nr_files);
		T_CHECK(m->files[0].alg == BSW_SXS_ALG_SHA256 && m->files[0].digest_len == 32 &&
				m->files[0].digest[0] == 0xe3 && m->files[0].digest[31] == 0x55,
			"digest (sha256 of empty)");
		T_CHECK(bsw_sxs_expand(m->files[0].dest, m->files[0].name, path, sizeof(path)) ==
					0 &&
				!strcmp(path, "\\Windows\\System32\\shell32.dll"),
			"expand %s", path);
		T_CHECK(bsw_sxs_expand(m->files[1].dest, m->files[1].name, path, sizeof(path)) ==
					0 &&
				!strcmp(path, "\\Windows\\System32\\drivers\\x.sys"),
			"expand drivers %s", path);
		T_CHECK(bsw_sxs_expand(m->files[2].dest, m->files[2].name, path, sizeof(path)) ==
				-ENOENT,
			"not projected");
		bsw_sxs_manifest_free(m);
	}
	T_CHECK(bsw_sxs_parse_manifest((const uint8_t *)"DCM\x01xxxx", 8, &m, &why) == -EPROTO,
		"DCM");
	T_CHECK(bsw_sxs_parse_manifest((const uint8_t *)"MZ\x90", 3, &m, &why) == -EINVAL,
		"garbage");
	T_CHECK(bsw_sxs_parse_manifest((const uint8_t *)"<assembly><file", 15, &m, &why) == -EINVAL,
		"truncated XML");
	T_CHECK(bsw_sxs_kind((const uint8_t *)"DCS\x01", 4) == BSW_SXS_OTHER_DC, "DCS");
	T_CHECK(bsw_base64_decode("AAEC", 4, b, 2) == -EINVAL, "base64 cap");
	T_CHECK(bsw_sxs_folder_parse(
			"amd64_microsoft-windows-shell32_31bf3856ad364e35_10.0.20348.1_none_0123456789abcdef",
			&f) &&
			!strcmp(f.name, "microsoft-windows-shell32") && !strcmp(f.lang, "none") &&
			!strcmp(f.version, "10.0.20348.1"),
		"folder");
	T_CHECK(bsw_sxs_folder_parse("amd64_a_b_c_d_e_f_g", &f) && !strcmp(f.name, "a_b_c"),
		"folder with _ in name: %s", f.name);
	T_CHECK(!bsw_sxs_folder_parse("Manifests", &f), "not a folder");

	r = bsw_sxs_parse_pending(
		L("<?xml version='1.0'?><PendingTransaction Version=\"3.1\" "
		  "Identifier=\"916d3b8a1bd4d8019a0b00004413a00e\"><Transactions><Install/><HardlinkFile source='a' destination='b'/></Transactions>"
		  "<POQ postAction=\"reboot\"/></PendingTransaction>"),
		&p, &why);
	T_CHECK(r == 0 && p.transaction &&
			!strcmp(p.identifier, "916d3b8a1bd4d8019a0b00004413a00e") &&
			p.nr_actions == 2,
		"pending %d %s %u", r, why, p.nr_actions);
	T_CHECK(bsw_sxs_parse_pending((const uint8_t *)"<Other/>", 8, &p, &why) == -EINVAL,
		"pending root");
	r = bsw_sxs_parse_sessions(
		L("<Sessions><Session id=\"1\" Complete=\"2024/01/01/00:00:00\" Status=\"0x0\"/>"
		  "<Session id=\"2\" Status=\"0x800f0922\"/></Sessions>"),
		&s, &why);
	T_CHECK(r == 0 && s.nr_sessions == 2 && !strcmp(s.last_id, "2") && !s.last_has_complete &&
			s.last_status == 0x800f0922,
		"sessions %d %s", r, why);
	real_manifests();
	return T_DONE();
}
