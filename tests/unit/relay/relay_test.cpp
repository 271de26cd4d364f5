// The relay core on raw bytes, with no sockets: a client's messages go through
// client_relay::scan()/output() the way the client's pump drives them, the server's answers
// through link::scan(), and each test checks what each side would be sent and when the
// server is free. Every batch also runs split at every byte boundary.
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/message_reader.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/relay/client_relay.hpp>
#include <sabakan/relay/link.hpp>
#include <sabakan/relay/scanners.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace sabakan::relay {
namespace {

using protocol::backend_tag;
using protocol::byte_buffer;
using protocol::frontend_tag;

// ---- building messages ----

const byte_buffer no_types{std::byte{0}, std::byte{0}};  // Parse: zero parameter types

void parse(byte_buffer& out, std::string_view name, std::string_view query) {
    protocol::append_parse(out, name, {name, query, no_types});
}
void bind_message(byte_buffer& out, std::string_view statement) {
    static const byte_buffer nothing(6, std::byte{0});  // no formats, values, result formats
    protocol::append_bind(out, statement, {"", statement, nothing});
}
void simple(byte_buffer& out, frontend_tag tag) {
    protocol::message_writer w{out};
    w.begin(tag);
    if (tag == frontend_tag::execute) {
        w.cstring("");
        w.i32(0);
    }
    w.end();
}
void close_statement(byte_buffer& out, std::string_view name) {
    protocol::append_statement_or_portal(out, frontend_tag::close,
                                         {protocol::target_kind::statement, name});
}
void backend(byte_buffer& out, backend_tag tag, std::string_view text = {}) {
    protocol::message_writer w{out};
    w.begin(tag);
    if (tag == backend_tag::command_complete) {
        w.cstring(text);
    }
    w.end();
}
void ready(byte_buffer& out, char status = 'I') {
    protocol::append_ready_for_query(out, static_cast<protocol::transaction_status>(status));
}
void error(byte_buffer& out) {
    protocol::append_error(out, "ERROR", "42601", "syntax error");
}

std::string sname(std::string_view query) {
    return server_statement_name(make_statement_id(query, no_types));
}

// ---- reading what a side is sent, as short text ----

/// The messages in `bytes`, one word each: the tag, and for the messages that name
/// statements the kind and name ("P:name", "B:name", "C:S:name"), for a Query its text, for
/// a CommandComplete its tag.
std::string render(protocol::bytes_view bytes, bool from_client) {
    std::string out;
    while (bytes.size() >= 5) {
        std::uint32_t len = 0;
        std::memcpy(&len, bytes.data() + 1, 4);
        len = __builtin_bswap32(len);
        const auto tag = static_cast<char>(bytes[0]);
        const auto body = bytes.subspan(5, len - 4);
        if (!out.empty()) {
            out += ' ';
        }
        out += tag;
        if (from_client && tag == 'P') {
            protocol::parse_message p;
            EXPECT_TRUE(protocol::decode_parse(body, p));
            out += ":" + std::string(p.statement);
        } else if (from_client && tag == 'B') {
            protocol::bind_head b;
            EXPECT_TRUE(protocol::decode_bind_head(body, b));
            out += ":" + std::string(b.statement);
        } else if (from_client && (tag == 'C' || tag == 'D')) {
            protocol::statement_or_portal c;
            EXPECT_TRUE(protocol::decode_statement_or_portal(body, c));
            out += std::string(":") + static_cast<char>(c.kind) + ":" + std::string(c.name);
        } else if ((from_client && tag == 'Q') || (!from_client && tag == 'C')) {
            out += ":" + std::string(protocol::as_text(body.first(body.size() - 1)));
        }
        bytes = bytes.subspan(1 + len);
    }
    EXPECT_TRUE(bytes.empty()) << "a partial message was sent";
    return out;
}

// ---- one server and its clients ----

struct client {
    explicit client(std::size_t capacity = 4096)
        : buf(capacity), sc(client_scanner(capacity, 1u << 30)) {}
    client_relay relay;
    parameter_overrides parameters;
    recv_buffer buf;
    protocol::frame_scanner sc;
};

struct client_result {
    std::string to_server;
    client_stop stop = client_stop::need_more;
};

struct server_result {
    std::string to_client;
    server_stop stop = server_stop::need_more;
};

class RelayTest : public ::testing::Test {
protected:
    void attach(client& c) { server_.attach({&c.relay.names(), &c.parameters}, true); }

    rewrite_context context() { return {registry_, server_cache_, client_names_, stats_, 7}; }

    /// The client's pump: `bytes` arrive in pieces of `chunk`; after each, scan and send
    /// what the relay says, until it needs more or stops for another reason.
    client_result send(client& c, const byte_buffer& bytes, std::size_t chunk = 1 << 20) {
        byte_buffer to_server;
        client_result r;
        for (std::size_t at = 0; at < bytes.size();) {
            auto space = c.buf.free_space();
            const std::size_t n = std::min({chunk, space.size(), bytes.size() - at});
            std::memcpy(space.data(), bytes.data() + at, n);
            c.buf.commit(n);
            at += n;
            r.stop = c.relay.scan(c.buf, c.sc, &server_, context());
            const auto out = c.relay.output(c.buf, server_);
            to_server.insert(to_server.end(), out.begin(), out.end());
            if (r.stop == client_stop::refused) {
                c.relay.drop_all();
                break;
            }
            c.relay.sent(c.buf, server_, c.sc.at_boundary());
        }
        r.to_server = render(to_server, true);
        return r;
    }

    /// The server's pump: `bytes` arrive whole; what the client is sent.
    server_result answer(const byte_buffer& bytes) {
        auto space = sbuf_.free_space();
        EXPECT_GE(space.size(), bytes.size());
        std::memcpy(space.data(), bytes.data(), bytes.size());
        sbuf_.commit(bytes.size());
        server_result r;
        r.stop = server_.scan(sbuf_, ssc_, mode_, stats_);
        r.to_client = render(sbuf_.to_send(), false);
        sbuf_.mark_sent();
        return r;
    }

    /// `c` prepares `query` as `name` and the server answers it: the name is taken.
    void prepared(client& c, std::string_view name, std::string_view query) {
        byte_buffer in;
        parse(in, name, query);
        simple(in, frontend_tag::sync);
        send(c, in);
        byte_buffer out;
        backend(out, backend_tag::parse_complete);
        ready(out);
        EXPECT_EQ(answer(out).stop, server_stop::free);
    }

    tracked_parameters tracked_{{}};
    statement_registry registry_;
    stats::counters stats_;
    std::size_t server_cache_ = 100;
    std::size_t client_names_ = 100;
    config::pool_mode mode_ = config::pool_mode::transaction;
    link server_{tracked_};
    recv_buffer sbuf_{4096};
    protocol::frame_scanner ssc_ = server_scanner(4096);
};

// A named Parse goes to the server under the shared name; its ParseComplete reaches the
// client, the name is taken from then on, and the server is free at ReadyForQuery.
TEST_F(RelayTest, NamedParseIsRenamedAndAnswered) {
    client c;
    attach(c);
    byte_buffer in;
    parse(in, "s1", "SELECT 1");
    simple(in, frontend_tag::sync);
    EXPECT_EQ(send(c, in).to_server, "P:" + sname("SELECT 1") + " S");
    EXPECT_FALSE(c.relay.names().taken("s1"));  // pending until answered
    byte_buffer out;
    backend(out, backend_tag::parse_complete);
    ready(out);
    const auto r = answer(out);
    EXPECT_EQ(r.to_client, "1 Z");
    EXPECT_EQ(r.stop, server_stop::free);
    EXPECT_TRUE(c.relay.names().taken("s1"));
    EXPECT_EQ(stats_.client_parse_count, 1u);
    EXPECT_EQ(stats_.server_parse_count, 1u);
}

// A second client preparing the same text on a server that has it: a Close of nothing
// stands in for the Parse, and its CloseComplete reaches the client as ParseComplete.
TEST_F(RelayTest, CachedStatementAnsweredByStandIn) {
    client first;
    attach(first);
    prepared(first, "a", "SELECT 2");
    server_.detach();

    client second;
    attach(second);
    byte_buffer in;
    parse(in, "b", "SELECT 2");
    simple(in, frontend_tag::sync);
    EXPECT_EQ(send(second, in).to_server, "C:S:_sbk_none S");
    byte_buffer out;
    backend(out, backend_tag::close_complete);
    ready(out);
    EXPECT_EQ(answer(out).to_client, "1 Z");
    EXPECT_TRUE(second.relay.names().taken("b"));
}

// A Bind of a statement this server has never seen: sabakan prepares it first, and the
// client never sees that Parse's reply.
TEST_F(RelayTest, BindOnAnotherServerPreparesFirst) {
    client c;
    attach(c);
    prepared(c, "s", "SELECT 3");
    server_.detach();
    server_.cache().clear();  // as another server would have it

    attach(c);
    byte_buffer in;
    bind_message(in, "s");
    simple(in, frontend_tag::execute);
    simple(in, frontend_tag::sync);
    const std::string n = sname("SELECT 3");
    EXPECT_EQ(send(c, in).to_server, "P:" + n + " B:" + n + " E S");
    byte_buffer out;
    backend(out, backend_tag::parse_complete);
    backend(out, backend_tag::bind_complete);
    backend(out, backend_tag::command_complete, "SELECT 1");
    ready(out);
    EXPECT_EQ(answer(out).to_client, "2 C:SELECT 1 Z");
}

// An error in the middle of a batch: the server skips the rest up to Sync, so the names
// whose Parse never ran are free again and the cache does not claim them.
TEST_F(RelayTest, ErrorMidBatchForgetsWhatNeverRan) {
    client c;
    attach(c);
    byte_buffer in;
    parse(in, "bad", "SELEC 1");
    parse(in, "later", "SELECT 4");
    simple(in, frontend_tag::sync);
    send(c, in);
    byte_buffer out;
    error(out);
    ready(out);
    const auto r = answer(out);
    EXPECT_EQ(r.to_client, "E Z");
    EXPECT_EQ(r.stop, server_stop::free);
    EXPECT_FALSE(c.relay.names().taken("bad"));
    EXPECT_FALSE(c.relay.names().taken("later"));
    EXPECT_EQ(server_.cache().size(), 0u);
    // The name may be prepared again at once.
    in.clear();
    parse(in, "bad", "SELECT 1");
    simple(in, frontend_tag::sync);
    EXPECT_EQ(send(c, in).stop, client_stop::need_more);
}

// A pipeline of two Syncs holds the server until the second ReadyForQuery.
TEST_F(RelayTest, PipelineHoldsUntilLastReady) {
    client c;
    attach(c);
    byte_buffer in;
    for (int i = 0; i < 2; ++i) {
        parse(in, "", "SELECT 5");
        bind_message(in, "");
        simple(in, frontend_tag::execute);
        simple(in, frontend_tag::sync);
    }
    EXPECT_EQ(send(c, in).to_server, "P: B: E S P: B: E S");
    byte_buffer out;
    backend(out, backend_tag::parse_complete);
    backend(out, backend_tag::bind_complete);
    backend(out, backend_tag::command_complete, "SELECT 1");
    ready(out);
    EXPECT_EQ(answer(out).stop, server_stop::need_more);
    EXPECT_EQ(answer(out).stop, server_stop::free);
    EXPECT_EQ(stats_.query_count, 2u);
}

// COPY started by Execute: the Sync libpq sends after it gets no ReadyForQuery, so the
// server stays until CopyDone and the Sync after it are answered.
TEST_F(RelayTest, CopyInByExecuteHoldsUntilCopyDone) {
    client c;
    attach(c);
    byte_buffer in;
    parse(in, "", "COPY t FROM STDIN");
    bind_message(in, "");
    simple(in, frontend_tag::execute);
    simple(in, frontend_tag::sync);
    send(c, in);
    byte_buffer out;
    backend(out, backend_tag::parse_complete);
    backend(out, backend_tag::bind_complete);
    {
        protocol::message_writer w{out};
        w.begin(backend_tag::copy_in_response);
        w.u8(0);
        w.i16(0);
        w.end();
    }
    EXPECT_EQ(answer(out).stop, server_stop::need_more);
    in.clear();
    {
        protocol::message_writer w{in};
        w.begin(frontend_tag::copy_data);
        w.text("1\n");
        w.end();
    }
    simple(in, frontend_tag::copy_done);
    simple(in, frontend_tag::sync);
    EXPECT_EQ(send(c, in).to_server, "d c S");
    out.clear();
    backend(out, backend_tag::command_complete, "COPY 1");
    ready(out);
    EXPECT_EQ(answer(out).stop, server_stop::free);
}

// A simple-query DEALLOCATE of a protocol-level statement: the stand-in's first
// CommandComplete (its PREPARE) is dropped, the client sees DEALLOCATE's alone, and the
// name is free.
TEST_F(RelayTest, DeallocateByQueryUsesStandIn) {
    client c;
    attach(c);
    prepared(c, "s", "SELECT 6");
    byte_buffer in;
    protocol::append_query(in, "DEALLOCATE s");
    EXPECT_EQ(send(c, in).to_server, "Q:PREPARE _sbk_dealloc AS SELECT;DEALLOCATE _sbk_dealloc");
    byte_buffer out;
    backend(out, backend_tag::command_complete, "PREPARE");
    backend(out, backend_tag::command_complete, "DEALLOCATE");
    ready(out);
    EXPECT_EQ(answer(out).to_client, "C:DEALLOCATE Z");
    EXPECT_EQ(c.relay.names().find("s"), nullptr);
}

// A client's Close forgets its name only: the server's copy stays for other clients, and
// the Close goes on under the client's name, which no server statement has.
TEST_F(RelayTest, CloseForgetsTheClientsNameOnly) {
    client c;
    attach(c);
    prepared(c, "s", "SELECT 14");
    byte_buffer in;
    close_statement(in, "s");
    simple(in, frontend_tag::sync);
    EXPECT_EQ(send(c, in).to_server, "C:S:s S");
    EXPECT_EQ(c.relay.names().find("s"), nullptr);
    EXPECT_EQ(server_.cache().size(), 1u);
}

// A cache of one statement: preparing a second closes the first on the server, and that
// Close's reply is the client's business no more than the Close was.
TEST_F(RelayTest, EvictionClosesLeastRecentlyUsed) {
    server_cache_ = 1;
    client c;
    attach(c);
    byte_buffer in;
    parse(in, "a", "SELECT 7");
    parse(in, "b", "SELECT 8");
    simple(in, frontend_tag::sync);
    EXPECT_EQ(send(c, in).to_server, "P:" + sname("SELECT 7") + " C:S:" + sname("SELECT 7") +
                                         " P:" + sname("SELECT 8") + " S");
    byte_buffer out;
    backend(out, backend_tag::parse_complete);
    backend(out, backend_tag::close_complete);
    backend(out, backend_tag::parse_complete);
    ready(out);
    EXPECT_EQ(answer(out).to_client, "1 1 Z");
    EXPECT_EQ(server_.cache().size(), 1u);
}

// The refusals: a name prepared twice, too many names, and the reserved prefix. Nothing of
// the refused message reaches the server, and the reason carries PostgreSQL's SQLSTATE.
TEST_F(RelayTest, RefusalsSayWhy) {
    {
        client c;
        attach(c);
        prepared(c, "s", "SELECT 9");
        byte_buffer in;
        parse(in, "s", "SELECT 10");
        const auto r = send(c, in);
        EXPECT_EQ(r.stop, client_stop::refused);
        EXPECT_EQ(r.to_server, "");
        EXPECT_EQ(c.relay.refused().sqlstate, protocol::sqlstate::duplicate_prepared_statement);
    }
    {
        client_names_ = 1;
        client c;
        attach(c);
        byte_buffer in;
        parse(in, "one", "SELECT 11");
        parse(in, "two", "SELECT 12");
        const auto r = send(c, in);
        EXPECT_EQ(r.stop, client_stop::refused);
        EXPECT_EQ(c.relay.refused().sqlstate, protocol::sqlstate::program_limit_exceeded);
    }
    {
        client c;
        attach(c);
        byte_buffer in;
        protocol::append_query(in, "EXECUTE _sbk_0123");
        const auto r = send(c, in);
        EXPECT_EQ(r.stop, client_stop::refused);
        EXPECT_EQ(r.to_server, "");
        EXPECT_EQ(c.relay.refused().sqlstate, protocol::sqlstate::reserved_name);
    }
}

// A Parse longer than the receive buffer is gathered whole, then renamed like any other;
// the message before it goes first, in order.
TEST_F(RelayTest, ParseLongerThanBufferIsGathered) {
    client c(256);
    attach(c);
    const std::string query = "SELECT '" + std::string(1000, 'x') + "'";
    byte_buffer in;
    simple(in, frontend_tag::flush);
    parse(in, "long", query);
    simple(in, frontend_tag::sync);
    EXPECT_EQ(send(c, in, 100).to_server, "H P:" + sname(query) + " S");
}

// The same batch split at every byte boundary is sent the same, and the link is clean
// only once it is whole.
TEST_F(RelayTest, EverySplitSendsTheSame) {
    byte_buffer in;
    parse(in, "s", "SELECT 13");
    bind_message(in, "s");
    simple(in, frontend_tag::execute);
    simple(in, frontend_tag::sync);
    const std::string expected = "P:" + sname("SELECT 13") + " B:" + sname("SELECT 13") + " E S";
    for (std::size_t chunk = 1; chunk <= in.size(); ++chunk) {
        client c;
        attach(c);
        server_.cache().clear();
        EXPECT_EQ(send(c, in, chunk).to_server, expected) << "chunk " << chunk;
        EXPECT_FALSE(server_.state().client_busy) << "chunk " << chunk;
    }
}

// ParameterStatus follows both sides while linked; once the link has let go of its client
// (it left; the server runs its reset), reports change the server's value only.
TEST_F(RelayTest, DetachedLinkReachesNoClient) {
    client c;
    attach(c);
    const int i = tracked_.index_of("application_name");
    ASSERT_GE(i, 0);
    byte_buffer out;
    protocol::append_parameter_status(out, "application_name", "mine");
    answer(out);
    ASSERT_NE(c.parameters.find(i), nullptr);
    EXPECT_EQ(*c.parameters.find(i), "mine");
    server_.detach();
    out.clear();
    protocol::append_parameter_status(out, "application_name", "");
    EXPECT_EQ(server_.note_parameter(protocol::bytes_view(out).subspan(5)), i);
    EXPECT_EQ(*c.parameters.find(i), "mine");
    ASSERT_NE(server_.parameters().find(i), nullptr);
    EXPECT_EQ(*server_.parameters().find(i), "");
}

// Statement mode: a ReadyForQuery inside a transaction block is refused.
TEST_F(RelayTest, StatementModeRefusesTransactions) {
    mode_ = config::pool_mode::statement;
    client c;
    attach(c);
    byte_buffer in;
    protocol::append_query(in, "BEGIN");
    send(c, in);
    byte_buffer out;
    backend(out, backend_tag::command_complete, "BEGIN");
    ready(out, 'T');
    EXPECT_EQ(answer(out).stop, server_stop::refuse_transaction);
}

// A Terminate at a message boundary stops the scan before it; a message while no server
// is linked asks for one.
TEST_F(RelayTest, TerminateAndNeedServerStopTheScan) {
    client c;
    byte_buffer in;
    protocol::append_query(in, "SELECT 1");
    std::memcpy(c.buf.free_space().data(), in.data(), in.size());
    c.buf.commit(in.size());
    EXPECT_EQ(c.relay.scan(c.buf, c.sc, nullptr, context()), client_stop::need_server);
    attach(c);
    in.clear();
    protocol::append_terminate(in);
    const auto r = send(c, in);
    EXPECT_EQ(r.to_server, "Q:SELECT 1");
    EXPECT_EQ(r.stop, client_stop::terminate);
}

}  // namespace
}  // namespace sabakan::relay
