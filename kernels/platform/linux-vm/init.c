/* linux-vm /init: the linux target's runner (platform/host/main.c) as the first process of a
 * Linux kernel booted from an initramfs that holds nothing else.
 *
 * As PID 1 it forks the runner and waits for it, so that whatever the runner does (an exit,
 * a fault caught by its signal handler, a signal) the machine powers off with a status line
 * and QEMU ends, instead of the kernel panicking because init died:
 *   - EDGESPEC_INPUT=/input.bin on the kernel command line (the kernel hands such words to
 *     init as its environment; edgespec run appends the file as a second cpio archive): one
 *     run, `model /input.bin /output.bin`; then /output.bin goes back over the console as an
 *     OUTPUT frame (edgespec/frame.h), the console lines before it;
 *   - without it: `model --serve`, frames over the console until STOP.
 * Then: "edgespec: init: exit=N" (or signal=N) and reboot(RB_POWER_OFF).
 * Run as any other process (not PID 1) it is the runner itself. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <ucontext.h>

/* The runner's fatal-signal handlers are wrapped (es_vm_sigaction) so that a fault also
 * names the function the PC was in, from the image's symbol table (.edgespec.symbols, the
 * build's second link), before the runner's own report. */
static int es_vm_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
#define sigaction(sig, act, old) es_vm_sigaction(sig, act, old)
#define main es_runner_main
#include "../host/main.c"
#undef main
#undef sigaction

#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include "edgespec/frame.h"

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

#include "edgespec/platform.h"

static void (*runner_handlers[NSIG])(int, siginfo_t *, void *);

/* "name+0xoffset" of the function holding pc, as platform/common/fault.c does. */
static void describe_pc(char *out, size_t size, uint64_t pc) {
  uint32_t lo = 0, hi = es_symbol_count;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (es_symbols[mid].addr <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0 || (es_symbols[lo - 1].size != 0 && pc >= es_symbols[lo - 1].addr + es_symbols[lo - 1].size)) {
    snprintf(out, size, "%s", es_symbol_count ? "?" : "?(no-symbol-table)");
    return;
  }
  const es_symbol *s = &es_symbols[lo - 1];
  snprintf(out, size, "%s+0x%llx", es_symbol_names + s->name_offset, (unsigned long long)(pc - s->addr));
}

static void on_fault(int sig, siginfo_t *info, void *context) {
  const ucontext_t *uc = context;
  const uint64_t pc = (uint64_t)uc->uc_mcontext.pc;
  char symbol[128];
  describe_pc(symbol, sizeof symbol, pc);
  char line[224];
  const int n = snprintf(line, sizeof line, "edgespec: fault: pc=0x%llx symbol=%s\n", (unsigned long long)pc, symbol);
  if (n > 0) {
    ssize_t ignored = write(STDOUT_FILENO, line, (size_t)n);
    (void)ignored;
  }
  if (runner_handlers[sig]) runner_handlers[sig](sig, info, context);
  _exit(ES_EXIT_FAULT);
}

#ifndef ES_TEST_CPU_FAULT
#define ES_TEST_CPU_FAULT 0
#endif

/* Tests only (EDGESPEC_TEST_PLANT_FAULT=cpu-fault): a load from an unmapped address once the
 * handlers are in place, so that the fault report can be checked end to end. */
__attribute__((noinline)) static void es_vm_planted_fault(void) {
  static volatile uintptr_t address = 0x10; /* not a constant: the compiler cannot see the fault */
  volatile uint64_t *unmapped = (volatile uint64_t *)address;
  printf("edgespec: planted fault: reading %p\n", (void *)unmapped);
  fflush(stdout);
  (void)*unmapped;
}

static int es_vm_sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (!act || !(act->sa_flags & SA_SIGINFO) || sig <= 0 || sig >= NSIG) return sigaction(sig, act, old);
  struct sigaction wrapped = *act;
  runner_handlers[sig] = act->sa_sigaction;
  wrapped.sa_sigaction = on_fault;
  const int rc = sigaction(sig, &wrapped, old);
  if (ES_TEST_CPU_FAULT && sig == SIGFPE) es_vm_planted_fault(); /* the runner installs SIGFPE's last */
  return rc;
}

static void power_off(void) {
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (getpid() != 1) return es_runner_main(argc, argv);

  char *input = getenv("EDGESPEC_INPUT");
  const int one_shot = input != NULL;
  fflush(stdout);
  const pid_t child = fork();
  if (child < 0) {
    console_line("edgespec: error: /init cannot fork the runner (errno %ld)\n", errno);
    console_line("edgespec: status=failed exit=%ld\n", ES_EXIT_MODEL_ERROR);
    power_off();
  }
  if (child == 0) {
    char *once[] = {argv[0], input, ES_VM_OUTPUT, NULL};
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
