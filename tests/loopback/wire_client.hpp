// A blocking PostgreSQL client over a unix socket, for benchmarks and tests that drive a
// pooler running on other threads: it logs in (trust), then runs one transaction at a
// time and waits for its ReadyForQuery. Its buffers are made once, so a round trip
// allocates nothing.
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sabakan::loopback {

class wire_client {
public:
    /// Connects and logs in. Throws std::runtime_error saying why when it cannot.
    wire_client(const std::string& socket_path, std::string_view user, std::string_view database);
    /// Sends Terminate and closes.
    ~wire_client();
    wire_client(const wire_client&) = delete;
    wire_client& operator=(const wire_client&) = delete;

    /// One Query ("SELECT 1") up to its ReadyForQuery. Returns the bytes received.
    /// Throws std::runtime_error on an ErrorResponse, a lost connection or an answer that
    /// goes on past ReadyForQuery.
    std::size_t simple_query();
    /// Parse, Bind, Describe (portal), Execute and Sync with the unnamed statement and
    /// portal, up to the ReadyForQuery. As simple_query() otherwise.
    std::size_t extended_query();

    /// The two halves of simple_query(), for driving several clients from one thread: send
    /// on each, then read each answer.
    void send_simple_query() { send(simple_); }
    /// Reads up to the ReadyForQuery that ends the answer; returns the bytes received.
    std::size_t read_to_ready();

private:
    void send(protocol::bytes_view bytes);

    int fd_ = -1;
    std::vector<std::byte> in_;
    std::size_t have_ = 0;
    protocol::byte_buffer simple_;
    protocol::byte_buffer extended_;
};

}  // namespace sabakan::loopback
