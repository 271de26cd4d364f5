// libpq helpers. connect() drives PQconnectStart/PQconnectPoll itself so the error
// verbosity can be set before the server's first message arrives.
#include "harness/pq.hpp"

#include <poll.h>

#include <chrono>
#include <stdexcept>

namespace sabakan::integration::pq {

connection connect(const std::string& conninfo) {
    connection c(PQconnectStart(conninfo.c_str()));
    if (!c || PQstatus(c.get()) == CONNECTION_BAD) {
        return c;
    }
    PQsetErrorVerbosity(c.get(), PQERRORS_VERBOSE);
    // The loop libpq documents: wait for the socket in the direction PQconnectPoll asks.
    // connect_timeout applies only to libpq's blocking connect, so bound the login here.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{PQsocket(c.get()),
                 static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
        if (p.fd < 0 || left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            break;  // PQstatus stays short of CONNECTION_OK: the caller sees a failure
        }
        st = PQconnectPoll(c.get());
    }
    return c;
}

connection connect_ok(const std::string& conninfo) {
    connection c = connect(conninfo);
    if (!c || PQstatus(c.get()) != CONNECTION_OK) {
        throw std::runtime_error("connection failed (" + conninfo +
                                 "): " + (c ? error(c.get()) : std::string("out of memory")));
    }
    PQsetErrorVerbosity(c.get(), PQERRORS_DEFAULT);
    return c;
}

result exec(PGconn* c, const std::string& sql) {
    return result(PQexec(c, sql.c_str()));
}

result run(PGconn* c, const std::string& sql) {
    result r = exec(c, sql);
    auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        throw std::runtime_error("\"" + sql + "\" failed: " + error(c));
    }
    return r;
}

std::string value(PGconn* c, const std::string& sql) {
    result r = run(c, sql);
    if (PQntuples(r.get()) != 1 || PQnfields(r.get()) != 1) {
        throw std::runtime_error("\"" + sql + "\" returned " + std::to_string(PQntuples(r.get())) +
                                 " rows of " + std::to_string(PQnfields(r.get())) +
                                 " columns, not one value");
    }
    return PQgetvalue(r.get(), 0, 0);
}

long long number(PGconn* c, const std::string& sql) {
    return std::stoll(value(c, sql));
}

bool no_more_results(PGconn* c) {
    return result(PQgetResult(c)) == nullptr;
}

std::string sqlstate(const PGresult* r) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return s != nullptr ? s : "";
}

std::string error(const PGconn* c) {
    return PQerrorMessage(c);
}

}  // namespace sabakan::integration::pq
