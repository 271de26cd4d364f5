// Client programs run to the end from a test.
#include "harness/client_run.hpp"

#include "harness/child_process.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <cstdlib>
#include <filesystem>

namespace sabakan::integration {

std::string pg_tool(const std::string& name) {
    const char* env = std::getenv("PG_BINDIR");
    std::string bindir = env != nullptr && *env != '\0' ? env : "/usr/lib/postgresql/15/bin";
    std::string path = bindir + "/" + name;
    return std::filesystem::exists(path) ? path : name;
}

client_run run_client(const std::vector<std::string>& argv, const std::string& output_file,
                      std::chrono::seconds timeout, const std::function<void()>& poll) {
    child_process child;
    child.spawn(argv, output_file);
    client_run r;
    r.timed_out = !wait_until(
        [&] {
            poll();
            return !child.running();
        },
        timeout, std::chrono::milliseconds(2));
    r.status = r.timed_out ? child.stop(std::chrono::seconds(2)) : child.status().value_or(-1);
    r.output = read_file(output_file);
    return r;
}

std::string line_starting(const std::string& output, const std::string& prefix) {
    for (std::size_t at = 0; at < output.size();) {
        auto end = output.find('\n', at);
        if (end == std::string::npos) {
            end = output.size();
        }
        if (output.compare(at, prefix.size(), prefix) == 0) {
            return output.substr(at, end - at);
        }
        at = end + 1;
    }
    return {};
}

}  // namespace sabakan::integration
