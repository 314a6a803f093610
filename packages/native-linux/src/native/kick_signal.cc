#include "kick_signal.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace hyperlight_native {
namespace {

// The first candidate: glibc reserves the two signals below SIGRTMIN for its
// own use, and other runtimes that kick threads tend to take the first few
// real-time signals (e.g. SIGRTMIN for timers), so start a little above.
constexpr int kFirstCandidateOffset = 6;

void OnKick(int) {}

int ChooseAndInstall() {
  for (int signal = SIGRTMIN + kFirstCandidateOffset; signal <= SIGRTMAX; signal++) {
    struct sigaction current = {};
    if (sigaction(signal, nullptr, &current) != 0) continue;
    bool is_default = (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL;
    if (!is_default) continue;
    struct sigaction action = {};
    action.sa_handler = OnKick;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(signal, &action, nullptr) == 0) return signal;
  }
  return -1;
}

}  // namespace

int KickSignal() {
  // A function-local static is initialised once even with threads racing
  // (C++11 magic statics); an int needs no destructor at exit.
  static const int signal = ChooseAndInstall();
  return signal;
}

pid_t PrepareThreadForKicks() {
  thread_local pid_t tid = 0;
  if (tid != 0) return tid;
  int signal = KickSignal();
  if (signal > 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
  tid = static_cast<pid_t>(syscall(SYS_gettid));
  return tid;
}

void Kick(pid_t tid) {
  int signal = KickSignal();
  if (signal > 0) syscall(SYS_tgkill, getpid(), tid, signal);
}

}  // namespace hyperlight_native
