// An in-process stand-in for PostgreSQL, just enough for a pooler to log in and forward
// transactions: trust login, then every Query and every Sync gets the same canned answer
// (one row of one int4 column). It reads no SQL and keeps no state between transactions.
// Owned by: the io_context given to it; never touched from another thread once started.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace sabakan::loopback {

class fake_server {
public:
    /// Listens on the unix socket `<dir>/.s.PGSQL.<port>`, which is where a [databases]
    /// entry `host=<dir> port=<port>` connects. Throws std::system_error if it cannot bind.
    fake_server(net::asio::io_context& io, const std::string& dir, int port);
    ~fake_server();
    fake_server(const fake_server&) = delete;
    fake_server& operator=(const fake_server&) = delete;

    /// Starts accepting; connections are served as the io_context runs.
    void start();
    /// Connections accepted so far (readable from any thread).
    std::uint64_t connections() const noexcept { return connections_.load(); }

    /// The canned answers, built once with the codec's own writers.
    struct answers {
        protocol::byte_buffer greeting;            // AuthenticationOk .. ReadyForQuery
        protocol::byte_buffer simple;              // RowDescription, DataRow, CommandComplete, RFQ
        protocol::byte_buffer parse_complete;      // '1'
        protocol::byte_buffer bind_complete;       // '2'
        protocol::byte_buffer close_complete;      // '3'
        protocol::byte_buffer describe_statement;  // ParameterDescription, RowDescription
        protocol::byte_buffer describe_portal;     // RowDescription
        protocol::byte_buffer execute;             // DataRow, CommandComplete
        protocol::byte_buffer ready;               // ReadyForQuery 'I'
    };
    static answers make_answers();

private:
    struct connection;
    net::awaitable<void> accept_loop();
    static net::awaitable<void> serve(std::shared_ptr<connection> c);

    net::asio::io_context& io_;
    net::asio::local::stream_protocol::acceptor acceptor_;
    std::string path_;
    std::shared_ptr<const answers> answers_;
    std::atomic<std::uint64_t> connections_{0};
};

}  // namespace sabakan::loopback
