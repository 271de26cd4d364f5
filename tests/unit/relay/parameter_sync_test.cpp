// The answer to a parameter sync, fed message by message as the server's pump does: what
// the server's link holds afterwards, and when the server is unusable.
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/relay/parameter_sync.hpp>

#include <gtest/gtest.h>

#include <string>

namespace sabakan::relay {
namespace {

using step = parameter_sync::step;

class ParameterSyncTest : public ::testing::Test {
protected:
    /// Feeds one message, built by `write`, to the sync.
    template <typename Write>
    step feed(Write write) {
        protocol::byte_buffer out;
        write(out);
        return sync_.on_message(static_cast<char>(out[0]), protocol::bytes_view(out).subspan(5),
                                server_);
    }
    step status(std::string_view name, std::string_view value) {
        return feed([&](auto& out) { protocol::append_parameter_status(out, name, value); });
    }
    step set_done() {
        return feed([](auto& out) {
            protocol::message_writer w{out};
            w.begin(protocol::backend_tag::command_complete);
            w.cstring("SET");
            w.end();
        });
    }
    step ready(protocol::transaction_status s = protocol::transaction_status::idle) {
        return feed([&](auto& out) { protocol::append_ready_for_query(out, s); });
    }
    int index(std::string_view name) const { return tracked_.index_of(name); }
    std::uint32_t bit(std::string_view name) const { return 1u << index(name); }
    std::string server_value(std::string_view name) const {
        const std::string* v = server_.parameters().find(index(name));
        return v != nullptr ? *v : "(none)";
    }

    tracked_parameters tracked_{{}};
    link server_{tracked_};
    parameter_sync sync_;
    parameter_overrides client_;
    parameter_list defaults_{{"TimeZone", "UTC"}, {"DateStyle", "ISO, MDY"}};
};

TEST_F(ParameterSyncTest, WhatIsNotReportedIsTakenFromTheClient) {
    client_.set(index("TimeZone"), "Asia/Tokyo");
    client_.set(index("DateStyle"), "German");
    sync_.start(bit("TimeZone") | bit("DateStyle"));
    EXPECT_EQ(set_done(), step::more);
    // PostgreSQL reports DateStyle in its own form ("German, DMY"), TimeZone not at all.
    EXPECT_EQ(status("DateStyle", "German, DMY"), step::more);
    EXPECT_EQ(set_done(), step::more);
    EXPECT_EQ(ready(), step::done);
    EXPECT_EQ(sync_.error(), "");
    sync_.apply(server_, client_, defaults_, tracked_);
    EXPECT_EQ(server_value("TimeZone"), "Asia/Tokyo");
    EXPECT_EQ(server_value("DateStyle"), "German, DMY");  // the server's form wins
}

TEST_F(ParameterSyncTest, ResetTakesThePoolsDefaultOrForgets) {
    server_.parameters().set(index("TimeZone"), "Asia/Tokyo");
    server_.parameters().set(index("IntervalStyle"), "iso_8601");
    // The client keeps neither: both go back to the defaults, one of which nobody knows.
    sync_.start(bit("TimeZone") | bit("IntervalStyle"));
    EXPECT_EQ(ready(), step::done);
    sync_.apply(server_, client_, defaults_, tracked_);
    EXPECT_EQ(server_value("TimeZone"), "UTC");
    EXPECT_EQ(server_value("IntervalStyle"), "(none)");
}

TEST_F(ParameterSyncTest, AnErrorIsKeptAndTheSyncStillEnds) {
    sync_.start(bit("TimeZone"));
    EXPECT_EQ(feed([](auto& out) {
                  protocol::append_error(out, "ERROR", "22023",
                                         "invalid value for parameter \"TimeZone\": \"Mars\"");
              }),
              step::more);
    EXPECT_EQ(ready(), step::done);
    EXPECT_EQ(sync_.sqlstate(), "22023");
    EXPECT_EQ(sync_.error(), "invalid value for parameter \"TimeZone\": \"Mars\"");
    // The next sync starts clean.
    sync_.start(bit("TimeZone"));
    EXPECT_EQ(sync_.error(), "");
}

TEST_F(ParameterSyncTest, ReadyInATransactionMeansBusy) {
    sync_.start(bit("TimeZone"));
    EXPECT_EQ(ready(protocol::transaction_status::in_transaction), step::busy);
}

}  // namespace
}  // namespace sabakan::relay
