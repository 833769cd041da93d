/*
 * qcow2 container (bsw_qcow2_ops in formats/cont/cont.h) and the list of
 * image formats bootsweep recognises but does not read.
 */
#ifndef BSW_QCOW2_H
#define BSW_QCOW2_H

#include <stddef.h>
#include <stdint.h>

/*
 * The name of a format bootsweep does not read ("VDI (VirtualBox disk
 * image)", "QED (QEMU enhanced disk)", ...) when b (the first n bytes of a
 * file, n <= 512) carries its signature; NULL otherwise.
 */
const char *bsw_qcow2_unread_name(const uint8_t *b, size_t n);

#endif /* BSW_QCOW2_H */
