// Watching a client that sabakan may end between its queries (a timeout, KILL): what
// FATAL error it was sent, and whether its connection closed.
#pragma once

#include "harness/wait.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <string>

namespace sabakan::integration {

/// A client that sabakan may end between its queries. libpq hands an ErrorResponse that
/// arrives while no query runs to the notice receiver, so this records it there, then
/// reads until the socket is closed.
class end_watch {
public:
    explicit end_watch(PGconn* c) : c_(c) {
        previous_ = PQsetNoticeReceiver(c, &end_watch::receive, this);
    }
    ~end_watch() { PQsetNoticeReceiver(c_, previous_, nullptr); }
    end_watch(const end_watch&) = delete;
    end_watch& operator=(const end_watch&) = delete;

    /// Whether the connection was closed within `timeout`.
    bool closed_within(std::chrono::milliseconds timeout) {
        return wait_until(
            [&] {
                pollfd p{PQsocket(c_), POLLIN, 0};
                if (PQstatus(c_) == CONNECTION_OK && p.fd >= 0 && ::poll(&p, 1, 0) > 0) {
                    PQconsumeInput(c_);
                    PQisBusy(c_);  // parses what came: an ErrorResponse goes to receive()
                }
                return PQstatus(c_) == CONNECTION_BAD;
            },
            timeout, std::chrono::milliseconds(20));
    }
    /// The SQLSTATE and message of the FATAL error that came before the close, if any.
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    const std::string& message() const noexcept { return message_; }

private:
    static void receive(void* arg, const PGresult* r) {
        auto* self = static_cast<end_watch*>(arg);
        const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
        if (severity == nullptr || std::string(severity) != "FATAL") {
            return;
        }
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char* text = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        self->sqlstate_ = state != nullptr ? state : "";
        self->message_ = text != nullptr ? text : "";
    }

    PGconn* c_;
    PQnoticeReceiver previous_;
    std::string sqlstate_;
    std::string message_;
};

}  // namespace sabakan::integration
