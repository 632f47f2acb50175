/*
 * pipe's process spawner for script and command stages (Linux), called through koffi from
 * src/lib/script/fast-spawn.ts.
 *
 * Why: Node's child_process.spawn forks the whole worker (a Node process of ~60 MB) and waits
 * for the child's exec; to give the child a parent-death signal it then had to exec util-linux's
 * setpriv in front of the program. Here the child is made with vfork (no copy of the worker's
 * page tables, the worker's thread waits only until the exec), and the child itself sets
 * PR_SET_PDEATHSIG = SIGKILL before it execs the program: one exec instead of two, the same
 * guarantee (the kernel kills the program as soon as the worker that started it dies).
 *
 * The child, between vfork and exec, only makes system calls (no allocation, no locks, no
 * return from this function), with every signal blocked until its handlers are back to
 * default — the way glibc's posix_spawn and libuv's uv_spawn prepare a child:
 *   setsid (own session and process group: abort kills the group), prctl(PR_SET_PDEATHSIG),
 *   a check that the parent did not die before that, signal dispositions to default,
 *   stdin from /dev/null, stdout/stderr/fd 3 to the pipes, chdir, the signal mask restored, execve.
 * An exec that fails reports its errno through a close-on-exec pipe (read by the parent once
 * the child has exec'd or exited), so a missing program is an error of the spawn, not an exit code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int ps_abi_version(void) { return 1; }

typedef struct {
  int pid;
  int out_fd;   /* read end of the child's stdout */
  int err_fd;   /* read end of the child's stderr */
  int proto_fd; /* read end of the child's fd 3 */
  int error;    /* errno of a failed spawn (0: started) */
  int stage;    /* where it failed: 0 pipe, 1 vfork, 2 child setup, 3 chdir, 4 exec */
} ps_result;

static void close_pair(int p[2]) {
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
  p[0] = p[1] = -1;
}

/* Child side after vfork: never returns. */
static void child(const char *file, char *const argv[], char *const envp[], const char *cwd,
                  int outp[2], int errp[2], int protop[2], int report, pid_t parent,
                  const sigset_t *oldmask) {
  int e, stage = 2;
  if (setsid() < 0) goto fail;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) goto fail;
  /* the parent died before the death signal was set: it will never be sent */
  if (getppid() != parent) _exit(127);
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
      if (s == SIGKILL || s == SIGSTOP) continue;
      sigaction(s, &sa, NULL); /* glibc's internal signals refuse: nothing to reset there */
    }
  }
  {
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) goto fail;
    if (dup2(devnull, 0) < 0) goto fail;
  }
  /* the pipes' write ends are all > 3 (0–3 were open when they were made), so no dup2 below
     overwrites a descriptor still to be duplicated; dup2 clears close-on-exec on the target */
  if (dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0 || dup2(protop[1], 3) < 0) goto fail;
  if (cwd && cwd[0] && chdir(cwd) < 0) { stage = 3; goto fail; }
  sigprocmask(SIG_SETMASK, oldmask, NULL);
  execve(file, argv, envp);
  stage = 4;
fail:
  e = errno;
  {
    int msg[2] = { e, stage };
    ssize_t w = write(report, msg, sizeof msg);
    (void)w;
  }
  _exit(127);
}

/*
 * Starts `file` (an absolute or cwd-relative path: no PATH search) with argv and envp
 * (NULL-terminated), in its own session, with the parent-death signal SIGKILL.
 * Returns 0 and fills r (pid and the three read ends, close-on-exec, blocking) or -1 with
 * r->error and r->stage set.
 */
int ps_spawn(const char *file, char *const argv[], char *const envp[], const char *cwd, ps_result *r) {
  int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, protop[2] = { -1, -1 }, rep[2] = { -1, -1 };
  sigset_t all, old;
  pid_t parent = getpid(), pid;
  memset(r, 0, sizeof *r);
  r->pid = -1;
  r->out_fd = r->err_fd = r->proto_fd = -1;
  if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(protop, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
    r->error = errno; r->stage = 0;
    close_pair(outp); close_pair(errp); close_pair(protop); close_pair(rep);
    return -1;
  }
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid = vfork();
  if (pid == 0) child(file, argv, envp, cwd, outp, errp, protop, rep[1], parent, &old);
  int ve = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(outp[1]); close(errp[1]); close(protop[1]); close(rep[1]);
  if (pid < 0) {
    r->error = ve; r->stage = 1;
    close(outp[0]); close(errp[0]); close(protop[0]); close(rep[0]);
    return -1;
  }
  /* vfork returned: the child has exec'd (the report pipe closed) or written its error and exited */
  int msg[2];
  ssize_t n;
  do n = read(rep[0], msg, sizeof msg); while (n < 0 && errno == EINTR);
  close(rep[0]);
  r->pid = pid;
  if (n == (ssize_t)sizeof msg) {
    r->error = msg[0]; r->stage = msg[1];
    close(outp[0]); close(errp[0]); close(protop[0]);
    return -1; /* the child exited 127: the caller reaps it */
  }
  r->out_fd = outp[0];
  r->err_fd = errp[0];
  r->proto_fd = protop[0];
  return 0;
}

/*
 * Reaps the child `pid` if it has ended, without waiting: its raw wait status (>= 0), -1 while it
 * runs, or -2 - errno. Called when the worker gets SIGCHLD (and once more when the child's pipes
 * have all closed). libuv reaps only the processes it spawned itself (waitpid by pid), so no one
 * else takes this child's status.
 */
int ps_reap(int pid) {
  int status;
  pid_t w;
  do w = waitpid(pid, &status, WNOHANG); while (w < 0 && errno == EINTR);
  if (w == 0) return -1;
  return w < 0 ? -2 - errno : status;
}
