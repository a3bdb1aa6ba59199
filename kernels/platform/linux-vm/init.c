/* linux-vm /init: the linux target's runner (platform/host/main.c) as the first process of a
 * Linux kernel booted from an initramfs that holds nothing else.
 *
 * As PID 1 it forks the runner and waits for it, so that whatever the runner does (an exit,
 * a fault caught by its signal handler, a signal) the machine powers off with a status line
 * and QEMU ends, instead of the kernel panicking because init died:
 *   - /input.bin in the initramfs (edgespec run appends it as a second cpio archive): one
 *     run, `model /input.bin /output.bin`; then /output.bin goes back over the console as an
 *     OUTPUT frame (edgespec/frame.h), the console lines before it;
 *   - no /input.bin: `model --serve`, frames over the console until STOP.
 * Then: "edgespec: init: exit=N" (or signal=N) and reboot(RB_POWER_OFF).
 * Run as any other process (not PID 1) it is the runner itself. */
#define _DEFAULT_SOURCE
#define main es_runner_main
#include "../host/main.c"
#undef main

#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include "edgespec/frame.h"

#define ES_VM_INPUT "/input.bin"
#define ES_VM_OUTPUT "/output.bin"

static void console_write(void *ctx, const void *bytes, uint32_t n) {
  (void)ctx;
  const unsigned char *b = bytes;
  while (n) {
    const ssize_t written = write(STDOUT_FILENO, b, n);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    b += written;
    n -= (uint32_t)written;
  }
}

/* The console is a terminal: without this its output processing would turn every 0x0a byte
 * of a frame into 0x0d 0x0a. */
static void console_raw_output(void) {
  struct termios t;
  if (tcgetattr(STDOUT_FILENO, &t) != 0) return;
  t.c_oflag &= ~(tcflag_t)OPOST;
  tcsetattr(STDOUT_FILENO, TCSADRAIN, &t);
}

static void console_line(const char *fmt, long value) {
  char line[160];
  const int n = snprintf(line, sizeof line, fmt, value);
  if (n > 0) console_write(NULL, line, (uint32_t)n);
}

/* The one-shot run's outputs file as an OUTPUT frame (sequence 0, no counters: the runner's
 * console lines carry invoke_ns). Returns 0 when sent. */
static int send_output_frame(void) {
  const int fd = open(ES_VM_OUTPUT, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (off_t)UINT32_MAX - 64) return -1;
  unsigned char *file = malloc((size_t)st.st_size);
  if (!file) return -1;
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    const ssize_t n = read(fd, file + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (got != (size_t)st.st_size) return -1;
  static const unsigned char counters[16] = {0};
  const es_frame_piece pieces[2] = {{counters, sizeof counters}, {file, (uint32_t)got}};
  const es_frame_port port = {NULL, console_write, NULL};
  console_raw_output();
  es_frame_write(&port, ES_FRAME_OUTPUT, 0, pieces, 2);
  tcdrain(STDOUT_FILENO);
  free(file);
  console_write(NULL, "\n", 1);
  return 0;
}

static void power_off(void) {
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (getpid() != 1) return es_runner_main(argc, argv);

  const int one_shot = access(ES_VM_INPUT, R_OK) == 0;
  fflush(stdout);
  const pid_t child = fork();
  if (child < 0) {
    console_line("edgespec: error: /init cannot fork the runner (errno %ld)\n", errno);
    console_line("edgespec: status=failed exit=%ld\n", ES_EXIT_MODEL_ERROR);
    power_off();
  }
  if (child == 0) {
    char *once[] = {argv[0], ES_VM_INPUT, ES_VM_OUTPUT, NULL};
    char *serve[] = {argv[0], "--serve", NULL};
    exit(one_shot ? es_runner_main(3, once) : es_runner_main(2, serve));
  }

  int status = 0;
  for (;;) { /* PID 1 also reaps any orphan; only the runner's end matters */
    const pid_t done = wait(&status);
    if (done == child) break;
    if (done < 0 && errno != EINTR) break;
  }
  if (WIFEXITED(status)) {
    if (one_shot && WEXITSTATUS(status) == 0 && send_output_frame() != 0) {
      static const char why[] = "edgespec: error: /init cannot read " ES_VM_OUTPUT "\n";
      console_write(NULL, why, sizeof why - 1);
      console_line("edgespec: status=failed exit=%ld\n", ES_EXIT_OUTPUT);
    }
    console_line("edgespec: init: exit=%ld\n", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    console_line("edgespec: init: signal=%ld\n", WTERMSIG(status));
    console_line("edgespec: status=failed exit=%ld\n", ES_EXIT_FAULT);
  }
  power_off();
  return 0;
}
