// Result-set messages come out byte for byte as hand-built frames from
// protocol-message-formats.html say they should.
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/result_set.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace sabakan::protocol {
namespace {

// Hand-built expected frames: big-endian integers and literal text, nothing from the writer.
class frame {
public:
    frame& tag(char c) {
        bytes_.push_back(static_cast<std::byte>(c));
        return *this;
    }
    frame& i16(std::int16_t v) { return be(static_cast<std::uint16_t>(v), 2); }
    frame& i32(std::int32_t v) { return be(static_cast<std::uint32_t>(v), 4); }
    frame& text(std::string_view s) {
        for (char c : s) {
            bytes_.push_back(static_cast<std::byte>(c));
        }
        return *this;
    }
    frame& cstr(std::string_view s) { return text(s).tag('\0'); }
    const byte_buffer& bytes() const { return bytes_; }

private:
    frame& be(std::uint32_t v, int n) {
        for (int shift = 8 * (n - 1); shift >= 0; shift -= 8) {
            bytes_.push_back(static_cast<std::byte>(v >> shift));
        }
        return *this;
    }
    byte_buffer bytes_;
};

// One field of a RowDescription: name, table oid, attnum, type oid, typlen, typmod, format.
void column(frame& f, std::string_view name, std::int32_t oid, std::int16_t typlen) {
    f.cstr(name).i32(0).i16(0).i32(oid).i16(typlen).i32(-1).i16(0);
}

// Every column_type maps to its OID and typlen; timestamps go out as text.
TEST(ResultSet, RowDescriptionEachType) {
    byte_buffer out;
    std::array<std::string_view, 6> names{"a", "b", "c", "d", "e", "f"};
    append_row_description(out, names, "siqNTb");

    frame f;
    f.tag('T').i32(126).i16(6);  // 4 + 2 + 6 * (2 + 18)
    column(f, "a", 25, -1);
    column(f, "b", 23, 4);
    column(f, "c", 20, 8);
    column(f, "d", 1700, -1);
    column(f, "e", 25, -1);
    column(f, "f", 17, -1);
    EXPECT_EQ(out, f.bytes());
}

// The enum's chars are the type-string chars, so a layout can be spelled with the enum.
TEST(ResultSet, RowDescriptionFromEnumChars) {
    byte_buffer out;
    std::array<std::string_view, 2> names{"database", "cl_active"};
    const std::array<char, 2> types{static_cast<char>(column_type::text),
                                    static_cast<char>(column_type::int4)};
    append_row_description(out, names, std::string_view(types.data(), types.size()));

    frame f;
    f.tag('T').i32(61).i16(2);  // 4 + 2 + (9 + 18) + (10 + 18)
    column(f, "database", 25, -1);
    column(f, "cl_active", 23, 4);
    EXPECT_EQ(out, f.bytes());
}

// A row with no columns is just the header and a zero count.
TEST(ResultSet, EmptyRowDescriptionAndDataRow) {
    byte_buffer out;
    append_row_description(out, {}, "");
    data_row_writer row{out};
    row.finish();

    frame f;
    f.tag('T').i32(6).i16(0);
    f.tag('D').i32(6).i16(0);
    EXPECT_EQ(out, f.bytes());
}

// Text, NULL (length -1, not empty), empty text, and the extreme 64-bit numbers in decimal.
TEST(ResultSet, DataRowFields) {
    byte_buffer out;
    data_row_writer row{out};
    row.text("ab");
    row.null();
    row.text("");
    row.number(std::numeric_limits<std::int64_t>::min());
    row.number(std::numeric_limits<std::uint64_t>::max());
    row.number(std::int64_t{0});
    row.number(std::int64_t{-1});
    row.finish();

    frame f;
    f.tag('D').i32(79).i16(7);  // 4 + 2 + 6 + 4 + 4 + 24 + 24 + 5 + 6
    f.i32(2).text("ab");
    f.i32(-1);
    f.i32(0);
    f.i32(20).text("-9223372036854775808");
    f.i32(20).text("18446744073709551615");
    f.i32(1).text("0");
    f.i32(2).text("-1");
    EXPECT_EQ(out, f.bytes());
}

// number() takes any integer type without ambiguity and keeps its sign.
TEST(ResultSet, DataRowNumberOverloads) {
    byte_buffer out;
    data_row_writer row{out};
    row.number(42);
    row.number(7u);
    row.number(std::int16_t{-5});
    row.number(std::size_t{9});
    row.number(-3LL);
    row.number(std::numeric_limits<std::uint32_t>::max());
    row.finish();

    frame f;
    f.tag('D').i32(48).i16(6);  // 4 + 2 + 6 + 5 + 6 + 5 + 6 + 14
    f.i32(2).text("42");
    f.i32(1).text("7");
    f.i32(2).text("-5");
    f.i32(1).text("9");
    f.i32(2).text("-3");
    f.i32(10).text("4294967295");
    EXPECT_EQ(out, f.bytes());
}

// Rows append after what the buffer already holds; each patches its own count and length.
TEST(ResultSet, DataRowsAppendInSequence) {
    byte_buffer out;
    append_row_description(out, std::array<std::string_view, 1>{"x"}, "s");
    const auto header_size = out.size();
    for (std::string_view v : {"one", "three"}) {
        data_row_writer row{out};
        row.text(v);
        row.finish();
    }

    frame f;
    f.tag('D').i32(13).i16(1).i32(3).text("one");
    f.tag('D').i32(15).i16(1).i32(5).text("three");
    EXPECT_EQ(byte_buffer(out.begin() + static_cast<std::ptrdiff_t>(header_size), out.end()),
              f.bytes());
}

// CommandComplete is 'C', length, and the NUL-terminated tag.
TEST(ResultSet, CommandComplete) {
    byte_buffer out;
    append_command_complete(out, "SHOW");

    frame f;
    f.tag('C').i32(9).cstr("SHOW");
    EXPECT_EQ(out, f.bytes());
}

// A notice without detail has S, V, C, M and no D, whether the detail is empty or left out.
TEST(ResultSet, NoticeWithoutDetail) {
    byte_buffer out;
    append_notice(out, "PAUSE", {});

    frame f;
    f.tag('N').i32(35);  // 4 + 8 + 8 + 7 + 7 + 1
    f.tag('S').cstr("NOTICE").tag('V').cstr("NOTICE").tag('C').cstr("00000");
    f.tag('M').cstr("PAUSE").tag('\0');
    EXPECT_EQ(out, f.bytes());

    byte_buffer two_arg;
    append_notice(two_arg, "PAUSE");
    EXPECT_EQ(two_arg, out);
}

// A notice with detail adds the D field after M, before the terminator.
TEST(ResultSet, NoticeWithDetail) {
    byte_buffer out;
    append_notice(out, "PAUSE", "db");

    frame f;
    f.tag('N').i32(39);  // 4 + 8 + 8 + 7 + 7 + 4 + 1
    f.tag('S').cstr("NOTICE").tag('V').cstr("NOTICE").tag('C').cstr("00000");
    f.tag('M').cstr("PAUSE").tag('D').cstr("db").tag('\0');
    EXPECT_EQ(out, f.bytes());
}

}  // namespace
}  // namespace sabakan::protocol
