// Client programs run to the end from a test (psql, pgbench, driver scripts): their exit
// status and output, with a deadline, and a poll while they run.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sabakan::integration {

/// A PostgreSQL client program: from PG_BINDIR (as the harness's cluster uses) when it is
/// there, else the one on PATH.
std::string pg_tool(const std::string& name);

struct client_run {
    bool timed_out = false;
    int status = -1;  // exit status, or 128 + signal
    std::string output;
};

/// Runs a client program to the end, calling `poll` every few milliseconds meanwhile. One
/// that is still running after `timeout` is stopped and reported as timed out.
client_run run_client(
    const std::vector<std::string>& argv, const std::string& output_file,
    std::chrono::seconds timeout, const std::function<void()>& poll = [] {});

/// The line of `output` starting with `prefix`, or "" when there is none.
std::string line_starting(const std::string& output, const std::string& prefix);

}  // namespace sabakan::integration
