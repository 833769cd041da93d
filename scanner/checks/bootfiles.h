/*
 * The files Windows needs to boot, as NTFS paths: the one list of them
 * the scanner hands to the NTFS reader (struct bsw_ntfs_opts.critical),
 * which judges damage to one of them, or to a directory on the way to
 * one, as critical.
 */
#ifndef BSW_BOOTFILES_H
#define BSW_BOOTFILES_H

/* Absolute paths ("\Windows\System32\ntoskrnl.exe"); bsw_nr_boot_files of them. */
extern const char *const bsw_boot_files[];
extern const unsigned bsw_nr_boot_files;
/* The first bsw_nr_core_boot_files of them are the kernel, the HAL and ci.dll. */
extern const unsigned bsw_nr_core_boot_files;

#endif /* BSW_BOOTFILES_H */
