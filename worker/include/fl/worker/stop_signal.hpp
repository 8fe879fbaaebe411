// Clean shutdown on SIGINT/SIGTERM: the handler only records which signal arrived; the
// worker's loops look at the flag between steps, log why they stop, and return normally.
#pragma once

#include <atomic>
#include <string>

namespace fl::worker {

// Installs SIGINT and SIGTERM handlers (sigaction) that store the signal number in the
// returned flag (0 until a signal arrives). Call once, from main.
const std::atomic<int>& install_stop_handlers();

// "SIGTERM", "SIGINT", or "signal N".
std::string signal_name(int signal);

}  // namespace fl::worker
