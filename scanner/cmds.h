/*
 * The subcommands of bootsweep and the exit-status bitmask they share.
 * Each command lives in scanner/cmd_<name>.c and returns an exit status.
 */
#ifndef BSW_CMDS_H
#define BSW_CMDS_H

/*
 * Exit status, a bitmask in fsck's manner (docs/cli.md):
 *   0  every image clean (or, for hive, clean or recovered)
 *   1  at least one image unassessable (encrypted, not Windows, unreadable)
 *   2  at least one image dirty-rollback
 *   4  at least one image unbootable (for info/check/hive: a finding at
 *      ERROR or above)
 *   8  operational error on at least one image (cannot open, I/O error)
 *  16  usage error
 *  32  interrupted
 */
#define BSW_EXIT_OK 0
#define BSW_EXIT_UNASSESS 1
#define BSW_EXIT_ROLLBACK 2
#define BSW_EXIT_UNBOOT 4
#define BSW_EXIT_OPERR 8
#define BSW_EXIT_USAGE 16
#define BSW_EXIT_INTR 32

int bsw_cmd_info(int argc, char **argv);	/* scanner/cmd_info.c */
int bsw_cmd_cat(int argc, char **argv);		/* scanner/cmd_info.c (image), NTFS --path via bsw_cmd_ntfs_cat */
int bsw_cmd_ntfs_cat(int argc, char **argv);	/* scanner/cmd_ntfs.c */
int bsw_cmd_ls(int argc, char **argv);		/* scanner/cmd_ntfs.c */
int bsw_cmd_check(int argc, char **argv);	/* scanner/cmd_ntfs.c */
int bsw_cmd_hive(int argc, char **argv);	/* scanner/cmd_hive.c */
int bsw_cmd_scan(int argc, char **argv);	/* scanner/cmd_scan.c */
int bsw_cmd_merge(int argc, char **argv);	/* scanner/cmd_merge.c */
int bsw_cmd_ntfs3g_verdict(int argc, char **argv); /* scanner/checks/ntfs3g_child.c */

#endif /* BSW_CMDS_H */
