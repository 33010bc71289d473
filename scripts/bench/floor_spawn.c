/*
 * The C floors of the benchmark (built by scripts/bench/c_floor.ts when cc or gcc is present):
 * what spawning costs without any runtime in the way. Every child gets a new session
 * (POSIX_SPAWN_SETSID), as a supervisor's children do, and the caller's environment.
 *
 *   floor_spawn spawn N PROGRAM [ARG...]
 *     posix_spawn N copies of PROGRAM, each with its stdout and stderr on a pipe of its own
 *     (read ends kept open, as a supervisor keeps them); posix_spawn returns once the child has
 *     executed PROGRAM, so when the loop ends all N are started. Prints
 *     `spawned N in MS ms`, then SIGKILLs every session's group and reaps them all.
 *
 *   floor_spawn respawn N PROGRAM [ARG...]
 *     runs PROGRAM N times one after the other: posix_spawn, waitpid, at once again. The child
 *     stamps its own start and exit: the gaps are the crash -> respawn floor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int usage(void) {
  fprintf(stderr, "usage: floor_spawn spawn|respawn N PROGRAM [ARG...]\n");
  return 2;
}

static int spawn_one(pid_t *pid, char **argv, int out_fd, int err_fd) {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  int rc = posix_spawnp(pid, argv[0], &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc;
}

static int spawn_many(long n, char **argv) {
  pid_t *pids = calloc((size_t)n, sizeof(pid_t));
  if (pids == NULL) return 1;
  double t0 = now_ms();
  for (long i = 0; i < n; i++) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      perror("pipe2");
      return 1;
    }
    int rc = spawn_one(&pids[i], argv, out[1], err[1]);
    if (rc != 0) {
      fprintf(stderr, "posix_spawnp: %s\n", strerror(rc));
      return 1;
    }
    close(out[1]);
    close(err[1]);
  }
  double elapsed = now_ms() - t0;
  printf("spawned %ld in %.1f ms\n", n, elapsed);
  fflush(stdout);
  for (long i = 0; i < n; i++) kill(-pids[i], SIGKILL);
  for (long i = 0; i < n; i++) {
    while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR) {
    }
  }
  free(pids);
  return 0;
}

static int respawn(long n, char **argv) {
  for (long i = 0; i < n; i++) {
    pid_t pid;
    int rc = spawn_one(&pid, argv, -1, -1);
    if (rc != 0) {
      fprintf(stderr, "posix_spawnp: %s\n", strerror(rc));
      return 1;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) return usage();
  long n = strtol(argv[2], NULL, 10);
  if (n <= 0) return usage();
  if (strcmp(argv[1], "spawn") == 0) return spawn_many(n, argv + 3);
  if (strcmp(argv[1], "respawn") == 0) return respawn(n, argv + 3);
  return usage();
}
