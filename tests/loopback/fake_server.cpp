// The fake PostgreSQL: a flat read-answer-write loop per connection, with buffers made once
// per connection, so that after login it allocates nothing per transaction and never blurs
// an allocation count of the pooler it serves.
#include "fake_server.hpp"

#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/result_set.hpp>
#include <sabakan/protocol/startup.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <exception>
#include <span>
#include <string_view>
#include <vector>

namespace sabakan::loopback {

namespace asio = net::asio;
using local = asio::local::stream_protocol;
using protocol::backend_tag;
using protocol::frontend_tag;

namespace {

void append(protocol::byte_buffer& out, const protocol::byte_buffer& canned) {
    out.insert(out.end(), canned.begin(), canned.end());
}

protocol::byte_buffer empty_message(backend_tag tag) {
    protocol::byte_buffer out;
    protocol::message_writer w{out};
    w.begin(tag);
    w.end();
    return out;
}

void log_failure(std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "fake_server: task failed: %s\n", ex.what());
    }
}

}  // namespace

struct fake_server::connection {
    // Big enough for any request the benchmarks and tests send in one go.
    static constexpr std::size_t in_capacity = 64 * 1024;

    connection(local::socket s, std::shared_ptr<const answers> a)
        : socket(std::move(s)), canned(std::move(a)), in(in_capacity) {
        out.reserve(in_capacity);
    }

    local::socket socket;
    std::shared_ptr<const answers> canned;
    std::vector<std::byte> in;
    std::size_t have = 0;  // bytes of `in` received and not yet answered
    protocol::byte_buffer out;
};

fake_server::answers fake_server::make_answers() {
    answers a;
    protocol::append_auth_request(a.greeting, protocol::auth_request::ok);
    // The parameters a PostgreSQL 15 reports at login, which a pooler caches for its clients.
    constexpr std::array<std::pair<std::string_view, std::string_view>, 8> params{{
        {"server_version", "15.0 (sabakan fake)"},
        {"server_encoding", "UTF8"},
        {"client_encoding", "UTF8"},
        {"DateStyle", "ISO, MDY"},
        {"TimeZone", "UTC"},
        {"integer_datetimes", "on"},
        {"standard_conforming_strings", "on"},
        {"IntervalStyle", "postgres"},
    }};
    for (const auto& [name, value] : params) {
        protocol::append_parameter_status(a.greeting, name, value);
    }
    protocol::append_backend_key_data(a.greeting, {4242, 0x5eed});
    protocol::append_ready_for_query(a.greeting, protocol::transaction_status::idle);

    const std::array<std::string_view, 1> columns{"?column?"};
    protocol::byte_buffer row_description;
    protocol::append_row_description(row_description, columns, "i");
    protocol::byte_buffer execute;
    {
        protocol::data_row_writer row{execute};
        row.number(1);
        row.finish();
    }
    protocol::append_command_complete(execute, "SELECT 1");
    protocol::append_ready_for_query(a.ready, protocol::transaction_status::idle);

    append(a.simple, row_description);
    append(a.simple, execute);
    append(a.simple, a.ready);

    a.parse_complete = empty_message(backend_tag::parse_complete);
    a.bind_complete = empty_message(backend_tag::bind_complete);
    a.close_complete = empty_message(backend_tag::close_complete);
    {
        protocol::message_writer w{a.describe_statement};
        w.begin(backend_tag::parameter_description);
        w.i16(0);
        w.end();
    }
    append(a.describe_statement, row_description);
    a.describe_portal = row_description;
    a.execute = execute;
    return a;
}

fake_server::fake_server(asio::io_context& io, const std::string& dir, int port)
    : io_(io),
      acceptor_(io),
      path_(dir + "/.s.PGSQL." + std::to_string(port)),
      answers_(std::make_shared<const answers>(make_answers())) {
    ::unlink(path_.c_str());
    acceptor_.open(local());
    acceptor_.bind(local::endpoint(path_));
    acceptor_.listen();
}

fake_server::~fake_server() {
    net::error_code ec;
    acceptor_.close(ec);
    ::unlink(path_.c_str());
}

void fake_server::start() {
    asio::co_spawn(io_, accept_loop(), log_failure);
}

net::awaitable<void> fake_server::accept_loop() {
    for (;;) {
        local::socket s(io_);
        net::error_code ec;
        co_await acceptor_.async_accept(s, asio::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;  // the acceptor was closed
        }
        connections_.fetch_add(1);
        asio::co_spawn(io_, serve(std::make_shared<connection>(std::move(s), answers_)),
                       log_failure);
    }
}

net::awaitable<void> fake_server::serve(std::shared_ptr<connection> c) {
    const answers& a = *c->canned;
    bool logged_in = false;
    for (;;) {
        // Answer every complete packet received, then send all the answers in one write,
        // as a server does for a pipelined extended-protocol batch.
        std::size_t pos = 0;
        bool quit = false;
        while (!quit) {
            auto rest = protocol::bytes_view(c->in).subspan(pos, c->have - pos);
            if (!logged_in) {
                auto len = protocol::startup_length(rest);
                if (!len || rest.size() < *len) {
                    break;
                }
                protocol::startup_packet sp;
                if (protocol::decode_startup(rest.first(*len), sp) !=
                    protocol::startup_error::none) {
                    quit = true;
                    break;
                }
                pos += *len;
                switch (sp.kind) {
                    case protocol::startup_kind::ssl_request:
                    case protocol::startup_kind::gssenc_request:
                        c->out.push_back(std::byte{'N'});  // no encryption here
                        break;
                    case protocol::startup_kind::startup:
                        append(c->out, a.greeting);
                        logged_in = true;
                        break;
                    case protocol::startup_kind::cancel_request:
                        quit = true;  // nothing runs long enough to cancel
                        break;
                }
                continue;
            }
            if (rest.size() < 5) {
                break;
            }
            std::uint32_t length = 0;
            for (int i = 1; i <= 4; ++i) {
                length = (length << 8) | std::to_integer<std::uint32_t>(rest[i]);
            }
            if (length < 4) {
                quit = true;
                break;
            }
            const std::size_t total = std::size_t{length} + 1;
            if (rest.size() < total) {
                break;
            }
            pos += total;
            switch (static_cast<frontend_tag>(rest[0])) {
                case frontend_tag::query:
                    append(c->out, a.simple);
                    break;
                case frontend_tag::parse:
                    append(c->out, a.parse_complete);
                    break;
                case frontend_tag::bind:
                    append(c->out, a.bind_complete);
                    break;
                case frontend_tag::describe:
                    append(c->out, total > 5 && rest[5] == std::byte{'S'} ? a.describe_statement
                                                                          : a.describe_portal);
                    break;
                case frontend_tag::execute:
                    append(c->out, a.execute);
                    break;
                case frontend_tag::close:
                    append(c->out, a.close_complete);
                    break;
                case frontend_tag::sync:
                    append(c->out, a.ready);
                    break;
                case frontend_tag::terminate:
                    quit = true;
                    break;
                default:
                    break;  // Flush and the rest need no answer here
            }
        }
        net::error_code ec;
        if (!c->out.empty()) {
            co_await asio::async_write(c->socket, asio::buffer(c->out),
                                       asio::redirect_error(net::use_awaitable, ec));
            c->out.clear();
            if (ec) {
                co_return;
            }
        }
        if (quit) {
            co_return;
        }
        std::memmove(c->in.data(), c->in.data() + pos, c->have - pos);
        c->have -= pos;
        if (c->have == c->in.size()) {
            co_return;  // a single packet larger than the buffer: not something it serves
        }
        auto n = co_await c->socket.async_read_some(
            asio::buffer(c->in.data() + c->have, c->in.size() - c->have),
            asio::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return;
        }
        c->have += n;
    }
}

}  // namespace sabakan::loopback
