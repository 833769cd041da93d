/*
 * NTFS hibernation pass (WINDOWS-EVIDENCE.md 1.5, ntfs-3g
 * ntfs_volume_check_hiberfile): a volume Windows hibernated, or left with
 * fast startup, holds a hibernation image in \hiberfil.sys.
 *
 * Tests: \hiberfil.sys starts with "hibr" in any case (NTFS-HIBER, info).
 *
 * Collects: nothing.
 */
#include <string.h>
#include <strings.h>

#include "formats/ntfs/ntfs_internal.h"

int bsw_ntfs_pass_hiberfil(struct bsw_ntfs *v)
{
	uint8_t b[4];
	uint64_t rec;
	char sig[5];

	if (bsw_ntfs_lookup(v, "\\hiberfil.sys", &rec))
		return 0;
	if (bsw_ntfs_read(v, rec, NULL, b, 4, 0) != 4)
		return 0;
	if (strncasecmp((const char *)b, "hibr", 4))
		return 0;
	memcpy(sig, b, 4);
	sig[4] = 0;
	BSW_REPORT(v->fx, PR_NTFS_2_HIBER, .rec = rec, .str = sig);
	return 0;
}
