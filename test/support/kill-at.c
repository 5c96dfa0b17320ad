// A fault injector for bench/fault-injection.ts and test/replace-outs.test.ts, loaded with
// LD_PRELOAD: in the one process whose command line contains KILL_AT_PROCESS (e.g. "bin/pipe.js":
// pipe itself, not its stages), it
// counts every rename and fsync (all threads together, since Node runs file system calls on a
// thread pool) and, at call number KILL_AT_N, SIGKILLs the process, either just BEFORE the call
// reaches the kernel or just AFTER it returned (KILL_AT_WHEN=before|after). With KILL_AT_LOG set
// it only appends "<n> <call> <path>" per call, so a dry run tells how many points there are.
// strace -e inject cannot do this: it counts calls per thread, not per process.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int active = -1; // -1 unknown, 0 another process, 1 the target
static long target = 0;
static int after = 0;
static long counter = 0;

static int is_target(void) {
  if (active >= 0) return active;
  const char *want = getenv("KILL_AT_PROCESS");
  char buf[4096];
  int fd = open("/proc/self/cmdline", O_RDONLY);
  ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  for (ssize_t i = 0; i < n; i++) if (buf[i] == 0) buf[i] = ' ';
  buf[n > 0 ? n : 0] = 0;
  const char *n_env = getenv("KILL_AT_N");
  target = n_env ? atol(n_env) : 0;
  const char *when = getenv("KILL_AT_WHEN");
  after = when && strcmp(when, "after") == 0;
  active = want && strstr(buf, want) ? 1 : 0;
  return active;
}

static void logged(long n, const char *call, const char *path) {
  const char *log = getenv("KILL_AT_LOG");
  if (!log) return;
  int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  dprintf(fd, "%ld %s %s\n", n, call, path ? path : "-");
  close(fd);
}

// Returns the call's number when this process is the target, else 0.
static long before_call(const char *call, const char *path) {
  if (!is_target()) return 0;
  long n = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
  logged(n, call, path);
  if (!after && n == target) kill(getpid(), SIGKILL);
  return n;
}

static void after_call(long n) {
  if (after && n != 0 && n == target) kill(getpid(), SIGKILL);
}

static char *fd_path(int fd, char *out, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, out, size - 1);
  out[len > 0 ? len : 0] = 0;
  return out;
}

typedef int (*rename_fn)(const char *, const char *);
typedef int (*renameat_fn)(int, const char *, int, const char *);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned);
typedef int (*sync_fn)(int);

// The libc function this one wraps, looked up once.
#define REAL(name, type) \
  static type real_##name; \
  if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

int rename(const char *from, const char *to) {
  REAL(rename, rename_fn);
  long n = before_call("rename", to);
  int r = real_rename(from, to);
  after_call(n);
  return r;
}

int renameat(int a, const char *from, int b, const char *to) {
  REAL(renameat, renameat_fn);
  long n = before_call("renameat", to);
  int r = real_renameat(a, from, b, to);
  after_call(n);
  return r;
}

int renameat2(int a, const char *from, int b, const char *to, unsigned flags) {
  REAL(renameat2, renameat2_fn);
  long n = before_call("renameat2", to);
  int r = real_renameat2(a, from, b, to, flags);
  after_call(n);
  return r;
}

// fsync and fdatasync: the same counting around the real call, named by the file's path.
static int synced(const char *call, sync_fn real, int fd) {
  char path[4096];
  long n = is_target() ? before_call(call, fd_path(fd, path, sizeof path)) : 0;
  int r = real(fd);
  after_call(n);
  return r;
}

int fsync(int fd) {
  REAL(fsync, sync_fn);
  return synced("fsync", real_fsync, fd);
}

int fdatasync(int fd) {
  REAL(fdatasync, sync_fn);
  return synced("fdatasync", real_fdatasync, fd);
}
