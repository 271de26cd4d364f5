// Console and PostgreSQL-side helpers shared by the integration tests.
#include "harness/console.hpp"

#include "harness/wait.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <stdexcept>

namespace sabakan::integration {

pending_query::pending_query(PGconn* c, const std::string& sql) : c_(c) {
    if (PQsendQuery(c, sql.c_str()) != 1 || PQflush(c) != 0) {
        throw std::runtime_error("cannot send \"" + sql + "\": " + pq::error(c));
    }
}

bool pending_query::ready() {
    return PQconsumeInput(c_) == 0 || PQisBusy(c_) == 0;
}

bool pending_query::wait(std::chrono::milliseconds timeout) {
    return wait_until([&] { return ready(); }, timeout, std::chrono::milliseconds(2));
}

pq::result pending_query::take() {
    pq::result r(PQgetResult(c_));
    while (PGresult* more = PQgetResult(c_)) {
        PQclear(more);
    }
    return r;
}

std::optional<std::string> show_cell(PGconn* admin, const std::string& what,
                                     const std::string& key_column, const std::string& key,
                                     const std::string& column) {
    pq::result r = pq::run(admin, "SHOW " + what);
    int k = PQfnumber(r.get(), key_column.c_str());
    int c = PQfnumber(r.get(), column.c_str());
    if (k < 0 || c < 0) {
        throw std::runtime_error("SHOW " + what + " has no column " + key_column + " or " + column);
    }
    for (int row = 0; row < PQntuples(r.get()); ++row) {
        if (PQgetvalue(r.get(), row, k) == key) {
            return std::string(PQgetvalue(r.get(), row, c));
        }
    }
    return std::nullopt;
}

std::string config_value(PGconn* admin, const std::string& key) {
    return show_cell(admin, "CONFIG", "key", key, "value").value_or("<missing>");
}

std::string tag_of(PGconn* admin, const std::string& sql) {
    pq::result r = pq::exec(admin, sql);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        return "error: " + pq::error(admin);
    }
    return PQcmdStatus(r.get());
}

std::string error_of(PGconn* admin, const std::string& sql) {
    pq::result r = pq::exec(admin, sql);
    if (PQresultStatus(r.get()) != PGRES_FATAL_ERROR) {
        return "";
    }
    const char* m = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
    return m != nullptr ? m : "";
}

bool backend_alive(PGconn* direct, const std::string& pid) {
    return pq::number(direct, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) > 0;
}

long long backends_in(PGconn* direct, const std::string& datname) {
    return pq::number(direct,
                      "SELECT count(*) FROM pg_stat_activity WHERE usename = 'mastodon' AND "
                      "backend_type = 'client backend' AND datname = '" +
                          datname + "'");
}

int local_port(PGconn* c) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(PQsocket(c), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("getsockname failed");
    }
    return ntohs(a.sin_port);
}

}  // namespace sabakan::integration
