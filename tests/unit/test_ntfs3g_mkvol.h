/*
 * Test helper: make a scratch NTFS volume with mkntfs and fill it through
 * libntfs-3g (directories, resident and non-resident files, an empty file,
 * a large directory that needs an index allocation, hard links, a deep
 * chain, non-ASCII names).  Writes ONLY the test's own scratch file.
 */
#ifndef BSW_TEST_NTFS3G_MKVOL_H
#define BSW_TEST_NTFS3G_MKVOL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

/* Create name in dir (S_IFDIR or S_IFREG); the new inode or NULL. */
static ntfs_inode *t_mk(ntfs_inode *dir, const char *name, mode_t type)
{
	ntfschar *u = NULL;
	ntfs_inode *ni;
	int ul = ntfs_mbstoucs(name, &u);

	if (ul <= 0)
		return NULL;
	ni = ntfs_create(dir, const_cpu_to_le32(0), u, (u8)ul, type);
	free(u);
	return ni;
}

static int t_put(ntfs_inode *ni, size_t len, unsigned seed)
{
	ntfs_attr *na;
	uint8_t *b;
	size_t i;
	int r = 0;

	if (!len)
		return 0;
	b = malloc(len);
	if (!b)
		return -1;
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + seed + (i >> 12));
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na || ntfs_attr_pwrite(na, 0, (s64)len, b) != (s64)len)
		r = -1;
	if (na)
		ntfs_attr_close(na);
	free(b);
	return r;
}

/*
 * Close ni whose parent directory dir is open (NULL: none is).  Closing
 * syncs the $FILE_NAME copies in the parents' indexes; a parent that is
 * open must be handed in, or libntfs-3g refuses (EBUSY) and leaks ni.
 */
static int t_close(ntfs_inode *ni, ntfs_inode *dir)
{
	unsigned long long no;
	int r;

	if (!ni)
		return 0;
	no = (unsigned long long)ni->mft_no;
	r = dir ? ntfs_inode_close_in_dir(ni, dir) : ntfs_inode_close(ni);
	if (r) {
		fprintf(stderr, "mkvol: closing record %llu: %s\n", no, strerror(errno));
		return -1;
	}
	return 0;
}

static int t_file(ntfs_inode *dir, const char *name, size_t len, unsigned seed)
{
	ntfs_inode *ni = t_mk(dir, name, S_IFREG);
	int r;

	if (!ni)
		return -1;
	r = t_put(ni, len, seed);
	if (t_close(ni, dir))
		r = -1;
	return r;
}

static int t_link(ntfs_inode *ni, ntfs_inode *dir, const char *name)
{
	ntfschar *u = NULL;
	int ul, r;

	if (!ni || !dir)
		return -1;
	ul = ntfs_mbstoucs(name, &u);
	r = ul > 0 ? ntfs_link(ni, dir, u, (u8)ul) : -1;
	free(u);
	return r;
}

/*
 * Make the volume at path (size bytes); 0 or -1.  Every inode is open once
 * at a time and closed before its parent (libntfs-3g keeps a record in
 * memory; a second open copy would write back a stale index).
 */
static int t_mkvol(const char *path, uint64_t size, unsigned nfiles_k)
{
	char cmd[1200], name[64];
	ntfs_volume *vol;
	ntfs_inode *root, *win, *users, *sys, *sxs, *comp, *shell, *small;
	ntfs_inode *chain[25];
	u64 shell_no = 0, small_no = 0;
	int fd, r = 0;
	unsigned i, depth;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "mkntfs -F -f -q -L made '%s' >/dev/null 2>&1", path);
	if (system(cmd))
		return -1;
	vol = ntfs_mount(path, 0);
	if (!vol)
		return -1;
	root = ntfs_inode_open(vol, FILE_root);
	win = root ? t_mk(root, "Windows", S_IFDIR) : NULL;
	users = root ? t_mk(root, "Users", S_IFDIR) : NULL;
	sys = win ? t_mk(win, "System32", S_IFDIR) : NULL;
	sxs = win ? t_mk(win, "WinSxS", S_IFDIR) : NULL;
	comp = sxs ? t_mk(sxs,
			  "amd64_microsoft-windows-shell32_31bf3856ad364e35_10.0.19041.1_none_1",
			  S_IFDIR) :
		     NULL;
	shell = comp ? t_mk(comp, "shell32.dll", S_IFREG) : NULL;
	small = comp ? t_mk(comp, "small.txt", S_IFREG) : NULL;
	if (!root || !users || !sys || !shell || !small) {
		ntfs_umount(vol, FALSE);
		return -1;
	}
	r |= t_put(shell, 700000, 1);
	r |= t_put(small, 40, 2);
	shell_no = shell->mft_no;
	small_no = small->mft_no;
	r |= t_close(shell, comp);
	r |= t_close(small, comp);
	r |= t_close(comp, sxs);
	r |= t_close(sxs, win);

	r |= t_file(sys, "ntoskrnl.exe", 1048579, 3);
	r |= t_file(sys, "empty.dat", 0, 0);
	r |= t_file(sys, "resident.ini", 300, 4);
	r |= t_file(sys, "na\xc3\xafve-\xe6\x97\xa5\xe6\x9c\xac.txt", 5000, 5);
	/* enough names for an $INDEX_ALLOCATION B-tree */
	for (i = 0; i < 300 * nfiles_k; i++) {
		snprintf(name, sizeof(name), "drv%05u.sys", i);
		r |= t_file(sys, name, (size_t)(i * 97 % 9000), i);
	}
	/* hard links: System32 names of WinSxS files, one with three names */
	shell = ntfs_inode_open(vol, shell_no);
	r |= t_link(shell, sys, "shell32.dll");
	r |= t_link(shell, sys, "shell32-alias.dll");
	r |= t_close(shell, sys);
	small = ntfs_inode_open(vol, small_no);
	r |= t_link(small, sys, "small-link.txt");
	r |= t_close(small, sys);
	r |= t_close(sys, win);
	r |= t_close(win, root);

	/* a deep chain, closed from the bottom up */
	chain[0] = users;
	for (depth = 0; depth < 24 && chain[depth]; depth++) {
		snprintf(name, sizeof(name), "level %02u", depth);
		chain[depth + 1] = t_mk(chain[depth], name, S_IFDIR);
	}
	if (chain[depth])
		r |= t_file(chain[depth], "bottom.txt", 12345, 6);
	else
		r = 1;
	for (i = depth; i > 0; i--)
		r |= t_close(chain[i], chain[i - 1]);
	r |= t_close(users, root);
	r |= t_close(root, NULL);
	if (ntfs_umount(vol, FALSE))
		r = 1;
	return r ? -1 : 0;
}

#endif /* BSW_TEST_NTFS3G_MKVOL_H */
