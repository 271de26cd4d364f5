// libpq for the tests: connections and results owned by unique_ptr, and a few helpers
// that turn "this must succeed" into an exception carrying libpq's message (gtest reports
// an escaping exception as a failure of the test that threw it).
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace sabakan::integration::pq {

struct finish_conn {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct clear_result {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using connection = std::unique_ptr<PGconn, finish_conn>;
using result = std::unique_ptr<PGresult, clear_result>;

/// Connects; the connection may have failed (check PQstatus). Error verbosity is VERBOSE
/// from the start, so a refused login's PQerrorMessage carries its SQLSTATE.
connection connect(const std::string& conninfo);
/// Connects, or throws std::runtime_error with libpq's message.
connection connect_ok(const std::string& conninfo);

/// Runs `sql` with PQexec; any outcome.
result exec(PGconn* c, const std::string& sql);
/// Runs `sql`; throws unless it returned COMMAND_OK or TUPLES_OK.
result run(PGconn* c, const std::string& sql);
/// The one value of a query returning one row and one column; throws otherwise.
std::string value(PGconn* c, const std::string& sql);
/// value() read as an integer.
long long number(PGconn* c, const std::string& sql);

/// Reads the next result and says whether there was none (the end of a query's results);
/// a result that does come is discarded.
bool no_more_results(PGconn* c);

/// The SQLSTATE field of a result, or "" when it has none.
std::string sqlstate(const PGresult* r);
/// libpq's last error text for `c`.
std::string error(const PGconn* c);

}  // namespace sabakan::integration::pq
