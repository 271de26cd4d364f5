// A logged-in idle server moving between workers: the old worker's side stops its read
// loop and sends the socket with what the server knows (moving_server); the new worker's
// side rebuilds the connection around it and joins its pool.
#include <sabakan/core/log.hpp>
#include <sabakan/relay/scanners.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>

#include "buffer_size.hpp"
#include "task_failure.hpp"

#include <unistd.h>

#include <utility>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;

server_connection::server_connection(pooler& owner, backend_pool& pool, moving_server&& from)
    : owner_(owner),
      pool_(pool),
      transport_(owner.io()),
      endpoint_(from.endpoint),
      buf_(buffer_size(owner.settings())),
      scanner_(relay::server_scanner(buf_.capacity())),
      key_(from.key),
      link_(owner.tracked()),
      id_(from.id),
      logged_in_(true),
      connect_time_(from.connect_time) {
    owner.add(*this);
    for (auto it = from.statements.rbegin(); it != from.statements.rend(); ++it) {
        link_.cache().insert(*it, from.statements.size());
    }
    link_.parameters() = std::move(from.parameters);
    error_code ec;
    transport_.socket().assign(endpoint_.protocol(), from.fd, ec);
    if (ec) {
        ::close(from.fd);
        closed_ = true;
        close_reason_ = "could not take over a server from another worker: " + ec.message();
    }
}

void server_connection::start_adopted(const moving_server& from) {
    asio::co_spawn(
        owner_.io(),
        [self = shared_from_this(), created = from.created_us, generation = from.generation,
         idle_since = from.idle_since_us]() -> net::awaitable<void> {
            if (self->closed_) {
                self->pool_.budget().give_back();
                self->pool_.ask_refused();
                log::warning("S-{}: {}", self->id_, self->close_reason_);
                co_return;
            }
            if (auto out = self->pool_.adopt(*self, created, generation, idle_since);
                pool::must_close(out)) {
                self->close(pool::to_string(out));
            }
            co_await self->serve();
        },
        log_task_failure{"server connection"});
}

void server_connection::move_to(int worker) {
    moving_to_ = worker;
    transport_.cancel();  // a pending read ends with operation_aborted; forward() returns
}

void server_connection::finish_move() {
    const int to = std::exchange(moving_to_, -1);
    if (closed_ || client_ || buf_.has_unparsed() || !scanner_.at_boundary() ||
        running_ != own_query::none) {
        // It spoke (an error, a notice) or closed while leaving: not fit to hand over.
        pool_.budget().give_back();
        closed_ = true;
        transport_.close();
        log::debug("S-{}: closed instead of moving to worker {}", id_, to);
        owner_.send_refusal(to, pool_);
        return;
    }
    moving_server m;
    error_code ec;
    m.fd = transport_.socket().release(ec);
    if (ec) {
        pool_.budget().give_back();
        closed_ = true;
        transport_.close();
        owner_.send_refusal(to, pool_);
        return;
    }
    log::debug("S-{}: moves to worker {}", id_, to);
    m.endpoint = endpoint_;
    m.key = key_;
    m.id = id_;
    m.connect_time = connect_time_;
    m.created_us = created_us();
    m.generation = pool_.generation_of(*this);
    m.idle_since_us = idle_since_us();
    m.database = pool_.database();
    m.user = pool_.user();
    m.statements = link_.cache().ids();
    m.parameters = link_.parameters();
    closed_ = true;  // this object is done; the socket lives on in the other worker
    owner_.send_server(to, std::move(m));
}

}  // namespace sabakan::session
