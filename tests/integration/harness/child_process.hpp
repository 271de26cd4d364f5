// Starting other programs from the harness: run one to completion (initdb, pg_ctl), or
// keep one running (sabakan) and stop it. Output goes to a file, not to the test's own
// stdout, so it is shown only when a test fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sabakan::integration {

/// Runs `argv` (argv[0] looked up in PATH) with stdin from /dev/null and stdout and stderr
/// appended to `output_file`. Returns the exit status, or -1 when the program could not
/// be started or was killed by a signal.
int run_command(const std::vector<std::string>& argv, const std::string& output_file);

class child_process {
public:
    child_process() = default;
    ~child_process();  // kills the child if it still runs
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Starts `argv` like run_command() but does not wait; throws std::runtime_error.
    void spawn(const std::vector<std::string>& argv, const std::string& output_file);
    /// Whether the child still runs; reaps it (and records its status) when it has ended.
    bool running();
    /// SIGTERM, then up to `grace` for it to exit, then SIGKILL. Returns the exit status,
    /// or 128 + signal number when a signal ended it.
    int stop(std::chrono::milliseconds grace);
    /// The exit status (as stop() reports it) once the child has ended.
    std::optional<int> status() const noexcept { return status_; }
    pid_t pid() const noexcept { return pid_; }

private:
    void record(int wait_status);

    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace sabakan::integration
