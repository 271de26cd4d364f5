// Session parameters kept in step: which names are tracked, and the SET text that brings a
// server's values to the ones a client expects.
#include <sabakan/relay/session_params.hpp>

#include <gtest/gtest.h>

namespace sabakan::relay {
namespace {

const parameter_list defaults = {{"client_encoding", "UTF8"},
                                 {"DateStyle", "ISO, MDY"},
                                 {"TimeZone", "Etc/UTC"},
                                 {"application_name", ""},
                                 {"server_version", "15.18"}};

// PostgreSQL's spelling is kept, names match without case, extras are added once.
TEST(TrackedParameters, NamesAndExtras) {
    tracked_parameters t({"IntervalStyle", "search_path", "SEARCH_PATH"});
    EXPECT_EQ(t.index_of("timezone"), t.index_of("TimeZone"));
    EXPECT_GE(t.index_of("IntervalStyle"), 0);
    EXPECT_GE(t.index_of("search_path"), 0);
    EXPECT_EQ(t.index_of("server_version"), -1);
    EXPECT_EQ(t.size(), 7);
    EXPECT_EQ(t.name(t.index_of("datestyle")), "DateStyle");
}

// Quotes and backslashes survive whatever standard_conforming_strings says.
TEST(QuoteLiteral, EscapesQuotesAndBackslashes) {
    EXPECT_EQ(quote_literal("UTC"), "E'UTC'");
    EXPECT_EQ(quote_literal("it's"), "E'it''s'");
    EXPECT_EQ(quote_literal("a\\b"), "E'a\\\\b'");
}

// Nothing to do when both sides agree with the defaults or with each other; otherwise one
// SET per differing parameter, including putting back a default another client changed.
TEST(ParameterSync, SetsOnlyWhatDiffers) {
    tracked_parameters t({});
    const int tz = t.index_of("TimeZone");
    const int app = t.index_of("application_name");
    const int ds = t.index_of("DateStyle");
    parameter_overrides client;
    parameter_overrides server;
    std::uint32_t synced = 99;
    EXPECT_EQ(parameter_sync_query(t, defaults, client, server, synced), "");
    EXPECT_EQ(synced, 0u);

    client.set(tz, "Etc/UTC");  // the same as the default
    EXPECT_EQ(parameter_sync_query(t, defaults, client, server, synced), "");

    client.set(app, "web");
    EXPECT_EQ(parameter_sync_query(t, defaults, client, server, synced),
              "SET application_name = E'web';");
    EXPECT_EQ(synced, 1u << app);

    server.set(app, "web");
    server.set(ds, "German, DMY");  // another client's SET DateStyle
    EXPECT_EQ(parameter_sync_query(t, defaults, client, server, synced),
              "SET DateStyle = E'ISO, MDY';");
    EXPECT_EQ(synced, 1u << ds);

    server.set(tz, "Asia/Tokyo");
    client.erase(app);  // this client expects the default application_name
    EXPECT_EQ(parameter_sync_query(t, defaults, client, server, synced),
              "SET TimeZone = E'Etc/UTC';SET application_name = E'';SET DateStyle = E'ISO, MDY';");
    EXPECT_EQ(synced, (1u << tz) | (1u << app) | (1u << ds));
}

// A tracked parameter PostgreSQL never reports (no default known): set whenever the client
// has a value the server is not known to have, reset when it has none.
TEST(ParameterSync, UnreportedParameter) {
    tracked_parameters t({"search_path"});
    const int sp = t.index_of("search_path");
    parameter_overrides client;
    parameter_overrides server;
    std::uint32_t synced = 0;
    client.set(sp, "app, public");
    EXPECT_EQ(parameter_sync_query(t, defaults, client, server, synced),
              "SET search_path = E'app, public';");
    server.set(sp, "app, public");
    EXPECT_EQ(parameter_sync_query(t, defaults, client, server, synced), "");
    // A client that set none on a server another client set it on: back to the default.
    EXPECT_EQ(parameter_sync_query(t, defaults, parameter_overrides{}, server, synced),
              "RESET search_path;");
    EXPECT_EQ(synced, 1u << sp);
}

}  // namespace
}  // namespace sabakan::relay
