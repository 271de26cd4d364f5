// What the loopback clients send and how they find the end of an answer, shared by the
// blocking wire_client and the coroutine loop_client.
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <cstddef>
#include <string_view>

namespace sabakan::loopback {

/// StartupMessage for `user` and `database`.
protocol::byte_buffer startup_request(std::string_view user, std::string_view database);
/// Query "SELECT 1".
protocol::byte_buffer simple_request();
/// Parse, Bind, Describe (portal), Execute and Sync with the unnamed statement and portal.
protocol::byte_buffer extended_request();
protocol::byte_buffer terminate_request();

struct answer_scan {
    bool ready = false;        // a ReadyForQuery ended the answer
    std::size_t consumed = 0;  // whole messages seen; the rest is a partial message
};

/// Walks the received bytes `in` of an answer. Throws std::runtime_error on an
/// ErrorResponse, a request for a password (the rig uses trust), a bad length, or bytes
/// after the ReadyForQuery (one request at a time, so nothing may follow it).
answer_scan scan_answer(protocol::bytes_view in, std::size_t capacity);

}  // namespace sabakan::loopback
