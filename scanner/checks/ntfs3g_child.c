/*
 * libntfs-3g's mount-time verdict, run in a child process.
 *
 * libntfs-3g is not hardened against hostile volumes the way bootsweep's
 * own parsers are, and a crash inside it would end the whole sweep.  So the
 * scan spawns itself ("bootsweep ntfs3g-verdict IMAGE START SIZE"): the
 * child opens the image and its chain read-only, runs bsw_ntfs3g_verdict()
 * on the partition window and prints one line per finding; the parent
 * reads at most NTFS3G_OUT_MAX bytes, kills the child at the deadline, and
 * turns the lines back into findings.  Only PR_NTFS3G_* rows are accepted
 * from the child, so whatever it prints can never decide a verdict.  A
 * child that crashes, hangs or exits non-zero gives PR_NTFS3G_F0_CHILD and
 * the disk's scan goes on.
 *
 * Line format (child's stdout), one per finding, fields tab-separated:
 *   F <id, hex> <n> <n2> <str> <str2>
 * A string field is "-" when absent, else "=" followed by the text with
 * control characters replaced by spaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_lib.h"
#include "scanner/checks/triage.h"
#include "scanner/cmds.h"
#include "scanner/disk.h"

extern char **environ;

#define NTFS3G_OUT_MAX (64u << 10)   /* bytes of child output kept */
#define NTFS3G_LINES_MAX 64	     /* findings accepted from it */
#define NTFS3G_CHILD_AS (4ull << 30) /* child's address-space cap */
#define NTFS3G_CHILD_CPU_S 600	     /* its CPU seconds without a timeout */

/* ASan and TSan reserve terabytes of shadow: no address-space cap under them */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NTFS3G_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NTFS3G_ASAN 1
#endif
#endif

/* ---- child side ---- */

static void put_str(FILE *o, const char *s)
{
	if (!s) {
		fputs("\t-", o);
		return;
	}
	fputs("\t=", o);
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, o);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -EINVAL : 0;
}

int bsw_cmd_ntfs3g_verdict(int argc, char **argv)
{
	struct bsw_disk *d = NULL;
	struct bsw_fx *fx = NULL;
	struct bsw_part p = { 0 };
	struct bsw_src src;
	struct bsw_src_window win;
	char err[256] = "";
	size_t i;
	int r;

	uint64_t ppid = 0, cpu_s = 0;

	if ((argc != 4 && argc != 6) || parse_u64(argv[2], &p.start) ||
	    parse_u64(argv[3], &p.size) ||
	    (argc == 6 && (parse_u64(argv[4], &ppid) || parse_u64(argv[5], &cpu_s)))) {
		fprintf(stderr, "usage: bootsweep ntfs3g-verdict IMAGE START SIZE [PARENT CPU_S]\n"
				"  (libntfs-3g's mount-time verdict on the NTFS "
				"volume at byte START, SIZE bytes long; with PARENT,\n"
				"  it dies with that process and uses at most CPU_S "
				"seconds of CPU)\n");
		return BSW_EXIT_USAGE;
	}
	if (argc == 6) {
		struct rlimit cpu = { cpu_s, cpu_s + 1 };

		/* killed if the sweep dies (even by SIGKILL); the check after
		 * closes the window in which it died before the prctl */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || (uint64_t)getppid() != ppid)
			return BSW_EXIT_OPERR;
		if (cpu_s)
			setrlimit(RLIMIT_CPU, &cpu);
	}
#ifndef NTFS3G_ASAN
	{
		/* bounded memory whatever the volume claims */
		struct rlimit rl = { NTFS3G_CHILD_AS, NTFS3G_CHILD_AS };

		setrlimit(RLIMIT_AS, &rl);
	}
#endif
	if (bsw_fx_create(&fx))
		return BSW_EXIT_OPERR;
	r = bsw_disk_open(&d, argv[1], NULL, NULL, err, sizeof(err));
	if (r) {
		fprintf(stderr, "bootsweep: %s: %s\n", argv[1], err[0] ? err : strerror(-r));
		bsw_fx_destroy(fx);
		return BSW_EXIT_OPERR;
	}
	bsw_disk_part_src(d, &p, &src, &win);
	r = bsw_ntfs3g_verdict(&src, fx);
	for (i = 0; r >= 0 && i < bsw_fx_count(fx); i++) {
		const struct bsw_finding *f = bsw_fx_get(fx, i);

		printf("F\t%06" PRIx32 "\t%" PRId64 "\t%" PRId64, bsw_problem_info(f->problem)->id,
		       f->n, f->n2);
		put_str(stdout, f->str);
		put_str(stdout, f->str2);
		putchar('\n');
	}
	bsw_disk_close(d);
	bsw_fx_destroy(fx);
	if (fflush(stdout) || r < 0)
		return BSW_EXIT_OPERR;
	return BSW_EXIT_OK;
}

/* ---- parent side ---- */

static enum bsw_problem ntfs3g_row(uint32_t id)
{
	unsigned p;

	for (p = 0; p < BSW_PROBLEM_COUNT; p++) {
		const struct bsw_problem_info *pi = bsw_problem_info(p);

		if (pi->id == id && !strncmp(pi->name, "PR_NTFS3G_", 10) && p != PR_NTFS3G_F0_CHILD)
			return p;
	}
	return BSW_PROBLEM_COUNT;
}

/* One string field in place: NULL for "-", the text after "=", else bad. */
static int field_str(char *f, const char **out)
{
	if (!strcmp(f, "-")) {
		*out = NULL;
		return 0;
	}
	if (f[0] != '=')
		return -EINVAL;
	*out = f + 1;
	return 0;
}

/* Parse one line of the child's output into a finding; -EINVAL if bad. */
static int parse_line(char *line, struct bsw_fx *fx)
{
	char *fld[6], *save = NULL, *s;
	struct bsw_fctx c = { 0 };
	enum bsw_problem p;
	unsigned nf = 0;
	char *end;
	unsigned long id;

	for (s = strtok_r(line, "\t", &save); s && nf < 6; s = strtok_r(NULL, "\t", &save))
		fld[nf++] = s;
	if (nf != 6 || s || strcmp(fld[0], "F"))
		return -EINVAL;
	errno = 0;
	id = strtoul(fld[1], &end, 16);
	if (errno || *end || id > UINT32_MAX)
		return -EINVAL;
	p = ntfs3g_row((uint32_t)id);
	if (p == BSW_PROBLEM_COUNT)
		return -EINVAL;
	c.n = strtoll(fld[2], &end, 10);
	if (*end)
		return -EINVAL;
	c.n2 = strtoll(fld[3], &end, 10);
	if (*end || field_str(fld[4], &c.str) || field_str(fld[5], &c.str2))
		return -EINVAL;
	bsw_report(fx, p, &c);
	return 0;
}

int bsw_ntfs3g_parse_output(char *buf, struct bsw_fx *fx)
{
	char *line, *save = NULL, why[128];
	unsigned nr = 0, bad = 0;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (nr >= NTFS3G_LINES_MAX || parse_line(line, fx))
			bad++;
		else
			nr++;
	}
	if (bad) {
		snprintf(why, sizeof(why),
			 "%u line(s) of its child process's output were not understood", bad);
		BSW_REPORT(fx, PR_NTFS3G_F0_CHILD, .str = why);
	}
	return (int)nr;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Read the child's stdout until EOF or the deadline; keeps at most
 * NTFS3G_OUT_MAX bytes (the rest is drained and dropped).  Returns 0, or
 * -ETIMEDOUT.
 */
static int drain(int fd, char *buf, size_t *len, uint64_t deadline)
{
	char junk[4096];

	*len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = mono_ms();
		ssize_t n;
		int pr;

		if (now >= deadline)
			return -ETIMEDOUT;
		pr = poll(&pfd, 1, (int)BSW_MIN(deadline - now, 1000u));
		if (pr < 0 && errno != EINTR)
			return 0; /* the caller judges the child by its exit */
		if (pr <= 0)
			continue;
		if (*len < NTFS3G_OUT_MAX)
			n = read(fd, buf + *len, NTFS3G_OUT_MAX - *len);
		else
			n = read(fd, junk, sizeof(junk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (*len < NTFS3G_OUT_MAX)
			*len += (size_t)n;
	}
}

int bsw_ntfs3g_isolated(const char *self, const char *image, uint64_t start, uint64_t size,
			unsigned timeout_s, struct bsw_fx *fx)
{
	char a_start[24], a_size[24], a_ppid[24], a_cpu[24], why[128];
	char *argv[] = { (char *)"bootsweep",
			 (char *)"ntfs3g-verdict",
			 (char *)image,
			 a_start,
			 a_size,
			 a_ppid,
			 a_cpu,
			 NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	int pfd[2], st = 0, r, timed_out;
	char *buf;
	unsigned nr = 0;
	uint64_t deadline;
	size_t len;
	pid_t pid, w = 0;

	buf = malloc(NTFS3G_OUT_MAX + 1);
	if (!buf)
		return -ENOMEM;
	if (pipe2(pfd, O_CLOEXEC)) {
		r = -errno;
		free(buf);
		return r;
	}
	snprintf(a_start, sizeof(a_start), "%" PRIu64, start);
	snprintf(a_size, sizeof(a_size), "%" PRIu64, size);
	/* the child dies with us, and its CPU time is capped even if we hang */
	snprintf(a_ppid, sizeof(a_ppid), "%ld", (long)getpid());
	snprintf(a_cpu, sizeof(a_cpu), "%u", timeout_s ? timeout_s + 1 : NTFS3G_CHILD_CPU_S);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* its own process group: a Ctrl-C at the terminal interrupts the
	 * sweep (which lets the disks in flight finish), not the child */
	posix_spawnattr_init(&sa);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&sa, 0);
	r = posix_spawn(&pid, self, &fa, &sa, argv, environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r) {
		close(pfd[0]);
		free(buf);
		return -r;
	}
	deadline = mono_ms() + (uint64_t)timeout_s * 1000;
	timed_out = drain(pfd[0], buf, &len, deadline) == -ETIMEDOUT;
	close(pfd[0]);
	/* stdout closed: the child should be gone; give it until the deadline */
	while (!timed_out && (w = waitpid(pid, &st, WNOHANG)) == 0) {
		if (mono_ms() >= deadline)
			timed_out = 1;
		else
			usleep(2000);
	}
	if (timed_out) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	} else if (w < 0) {
		st = 0xff00; /* lost: counted as a failed child */
	}
	buf[len] = '\0';
	if (timed_out) {
		snprintf(why, sizeof(why),
			 "its child process gave no answer within %u s and was killed", timeout_s);
		BSW_REPORT(fx, PR_NTFS3G_F0_CHILD, .str = why);
	} else if (WIFSIGNALED(st)) {
		snprintf(why, sizeof(why), "its child process was killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
		BSW_REPORT(fx, PR_NTFS3G_F0_CHILD, .str = why);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		snprintf(why, sizeof(why), "its child process exited with status %d",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		BSW_REPORT(fx, PR_NTFS3G_F0_CHILD, .str = why);
	} else {
		nr = (unsigned)bsw_ntfs3g_parse_output(buf, fx);
	}
	free(buf);
	return (int)nr;
}

/*
 * Stage "ntfs3g": libntfs-3g's mount-time verdict on the volume chosen as
 * Windows' (or kept as the evidence), as INFO/WARN rows beside bootsweep's
 * own: they never decide the verdict.  Run once per disk, not on every
 * NTFS candidate, and (from scan) in a child process, so that a crash or
 * hang of libntfs-3g on a hostile volume costs one finding, not the sweep.
 * It runs after a FATAL finding too: the evidence is what it judges.
 */
#define NTFS3G_TIMEOUT_S 60

static void second_opinion(struct bsw_tctx *t, const struct bsw_part *p, struct bsw_fx *pfx)
{
	unsigned tmo = NTFS3G_TIMEOUT_S;
	uint64_t spent;
	int r;

	if (t->o->no_ntfs3g || bsw_tctx_over(t))
		return;
	if (!t->o->ntfs3g_self) {
		struct bsw_src src;
		struct bsw_src_window win;

		bsw_disk_part_src(t->d, p, &src, &win);
		bsw_ntfs3g_verdict(&src, pfx);
		return;
	}
	if (t->o->timeout_s) {
		/* at most half of what is left, so a hanging libntfs-3g
		 * leaves bootsweep's own checks the time to finish */
		spent = (bsw_now_ms() - t->t0_ms) / 1000;
		if (spent + 2 < t->o->timeout_s)
			tmo = BSW_MIN(tmo, (t->o->timeout_s - (unsigned)spent) / 2);
		else
			tmo = 1;
	}
	r = bsw_ntfs3g_isolated(t->o->ntfs3g_self, bsw_disk_path(t->d), p->start, p->size, tmo,
				pfx);
	if (r < 0) {
		char why[96];

		snprintf(why, sizeof(why), "its child process could not be started (%s)",
			 strerror(-r));
		BSW_REPORT(pfx, PR_NTFS3G_F0_CHILD, .str = why);
	}
}

void bsw_stage_ntfs3g(struct bsw_tctx *t)
{
	const struct bsw_part *p = t->wp ? t->wp : t->evidence;
	char scope[32], *prev;

	if (!p)
		return;
	snprintf(scope, sizeof(scope), "part%u:ntfs", p->index);
	prev = bsw_fx_push_scope(t->fx, scope);
	second_opinion(t, p, t->fx);
	bsw_fx_restore_scope(t->fx, prev);
}
