// Result-set messages: RowDescription, DataRow, CommandComplete, NoticeResponse with detail.
// Field layouts follow protocol-message-formats.html; nothing here does I/O.
#include <sabakan/core/assert.hpp>
#include <sabakan/protocol/result_set.hpp>

#include <charconv>
#include <limits>

namespace sabakan::protocol {
namespace {

struct column_info {
    std::int32_t oid;
    std::int16_t typlen;  // -1 for variable-length types
};

// OIDs from PostgreSQL's pg_type.dat.
constexpr std::int32_t oid_bytea = 17;
constexpr std::int32_t oid_int8 = 20;
constexpr std::int32_t oid_int4 = 23;
constexpr std::int32_t oid_text = 25;
constexpr std::int32_t oid_numeric = 1700;

column_info describe(char type) noexcept {
    switch (static_cast<column_type>(type)) {
        case column_type::text:
            return {oid_text, -1};
        case column_type::int4:
            return {oid_int4, 4};
        case column_type::int8:
            return {oid_int8, 8};
        case column_type::numeric:
            return {oid_numeric, -1};
        case column_type::timestamp:
            // Sent already formatted, so clients show it as is rather than re-parsing it.
            return {oid_text, -1};
        case column_type::bytea:
            return {oid_bytea, -1};
    }
    SABAKAN_ASSERT(false && "unknown column_type char");
    return {oid_text, -1};
}

}  // namespace

void append_row_description(byte_buffer& out, std::span<const std::string_view> names,
                            std::string_view types) {
    SABAKAN_ASSERT(names.size() == types.size());
    SABAKAN_ASSERT(names.size() <=
                   static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max()));
    message_writer w{out};
    w.begin(backend_tag::row_description);
    w.i16(static_cast<std::int16_t>(names.size()));
    for (std::size_t i = 0; i < names.size(); ++i) {
        auto info = describe(types[i]);
        w.cstring(names[i]);
        w.i32(0);  // not a table column: table oid 0 ...
        w.i16(0);  // ... and attribute number 0
        w.i32(info.oid);
        w.i16(info.typlen);
        w.i32(-1);  // no type modifier
        w.i16(0);   // text format
    }
    w.end();
}

data_row_writer::data_row_writer(byte_buffer& out) : w_(out), out_(out) {
    w_.begin(backend_tag::data_row);
    count_pos_ = out_.size();
    w_.i16(0);
}

data_row_writer::~data_row_writer() {
    SABAKAN_ASSERT(finished_);
}

void data_row_writer::text(std::string_view value) {
    SABAKAN_ASSERT(!finished_);
    SABAKAN_ASSERT(value.size() <=
                   static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()));
    w_.i32(static_cast<std::int32_t>(value.size()));
    w_.text(value);
    ++fields_;
}

void data_row_writer::null() {
    SABAKAN_ASSERT(!finished_);
    w_.i32(-1);
    ++fields_;
}

void data_row_writer::number(std::int64_t value) {
    char buf[24];  // "-9223372036854775808" is 20 chars
    auto res = std::to_chars(buf, buf + sizeof buf, value);
    text({buf, static_cast<std::size_t>(res.ptr - buf)});
}

void data_row_writer::number(std::uint64_t value) {
    char buf[24];  // "18446744073709551615" is 20 chars
    auto res = std::to_chars(buf, buf + sizeof buf, value);
    text({buf, static_cast<std::size_t>(res.ptr - buf)});
}

void data_row_writer::finish() {
    SABAKAN_ASSERT(!finished_);
    SABAKAN_ASSERT(fields_ <= std::numeric_limits<std::int16_t>::max());
    auto count = static_cast<std::uint16_t>(fields_);
    out_[count_pos_] = static_cast<std::byte>(count >> 8);
    out_[count_pos_ + 1] = static_cast<std::byte>(count);
    w_.end();
    finished_ = true;
}

void append_command_complete(byte_buffer& out, std::string_view tag) {
    message_writer w{out};
    w.begin(backend_tag::command_complete);
    w.cstring(tag);
    w.end();
}

}  // namespace sabakan::protocol
