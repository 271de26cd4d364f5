// The completion handler of a connection's task (asio::co_spawn): whatever escaped it is
// logged, named by the kind of task, and the worker goes on.
#pragma once

#include <sabakan/core/log.hpp>

#include <exception>

namespace sabakan::session {

struct log_task_failure {
    const char* what;  // "client", "server connection"

    void operator()(std::exception_ptr e) const {
        if (!e) {
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error("{} task failed: {}", what, ex.what());
        }
    }
};

}  // namespace sabakan::session
