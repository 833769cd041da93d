/*
 * What a directory walk sweeps of one folder: the current state of a
 * Hyper-V VM with checkpoints once (its newest .avhdx, not each checkpoint
 * file and the base below it), and a VMDK descriptor disk once (not its
 * extent files as disks of their own).
 */
#ifndef BSW_WALK_LAYOUT_H
#define BSW_WALK_LAYOUT_H

#include <stddef.h>

/*
 * v[from..nr) are the image paths one folder added (heap strings).  Drop
 * (free) those that are layers or extent files of another image of the
 * same folder, as described above, keeping the others in order.  Returns
 * the new count.  Images that cannot be opened are kept (the sweep gives
 * them their error line).
 */
size_t bsw_walk_collapse(char **v, size_t from, size_t nr);

#endif /* BSW_WALK_LAYOUT_H */
