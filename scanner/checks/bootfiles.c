/*
 * The Windows boot files (bootfiles.h): the kernel, the HAL and the code
 * integrity and loader images, the SYSTEM and SOFTWARE hives, the storage
 * and filesystem drivers a disk needs to mount the system volume, and the
 * boot manager.  (Start=0 drivers named only in the SYSTEM hive are judged
 * by the boot checks, boot.c.)
 *
 * The NTFS reader checks the index of each directory on their way in the
 * order the list first reaches it: the root, \Windows, System32, drivers,
 * config.
 */
#include "scanner/checks/bootfiles.h"

const char *const bsw_boot_files[] = {
	/* the core: the boot stage checks these three as BOOT-CORE */
	"\\Windows\\System32\\ntoskrnl.exe",
	"\\Windows\\System32\\hal.dll",
	"\\Windows\\System32\\ci.dll",
	"\\Windows\\System32\\winload.efi",
	"\\Windows\\System32\\winload.exe",
	"\\Windows\\System32\\kdcom.dll",
	"\\Windows\\System32\\bootvid.dll",
	"\\Windows\\System32\\pshed.dll",
	"\\Windows\\System32\\drivers\\ntfs.sys",
	"\\Windows\\System32\\drivers\\disk.sys",
	"\\Windows\\System32\\drivers\\partmgr.sys",
	"\\Windows\\System32\\drivers\\volmgr.sys",
	"\\Windows\\System32\\drivers\\volmgrx.sys",
	"\\Windows\\System32\\drivers\\mountmgr.sys",
	"\\Windows\\System32\\drivers\\classpnp.sys",
	"\\Windows\\System32\\drivers\\storport.sys",
	"\\Windows\\System32\\drivers\\stornvme.sys",
	"\\Windows\\System32\\drivers\\storahci.sys",
	"\\Windows\\System32\\drivers\\storvsc.sys",
	"\\Windows\\System32\\drivers\\vmbus.sys",
	"\\Windows\\System32\\drivers\\pci.sys",
	"\\Windows\\System32\\drivers\\acpi.sys",
	"\\Windows\\System32\\drivers\\cng.sys",
	"\\Windows\\System32\\drivers\\ksecdd.sys",
	"\\Windows\\System32\\drivers\\fltmgr.sys",
	"\\Windows\\System32\\drivers\\Wdf01000.sys",
	"\\Windows\\System32\\drivers\\volsnap.sys",
	"\\Windows\\System32\\config\\SYSTEM",
	"\\Windows\\System32\\config\\SOFTWARE",
	"\\bootmgr",
};

const unsigned bsw_nr_boot_files = sizeof(bsw_boot_files) / sizeof(bsw_boot_files[0]);
const unsigned bsw_nr_core_boot_files = 3;
