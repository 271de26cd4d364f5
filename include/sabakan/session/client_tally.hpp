// Client counts for max_client_conn and the per-database and per-user client limits. One
// per process: the workers share it, as the limits are the process's.
// Owned by: the worker group, or a pooler that has none. Thread-safe.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sabakan::session {

struct client_tally {
    std::atomic<int> connections{0};  // every client connection, logged in or not
    std::mutex mutex;                 // guards what follows (touched at login and logout)
    std::unordered_map<std::string, int> of_db;
    std::unordered_map<std::string, int> of_user;
};

}  // namespace sabakan::session
