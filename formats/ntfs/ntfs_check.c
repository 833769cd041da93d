/* NTFS pass 2: volume checks (placeholder while being written). */
#include "formats/ntfs/ntfs_internal.h"

void bsw_ntfs_pass2(struct bsw_ntfs *v)
{
}
