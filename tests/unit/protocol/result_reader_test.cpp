// A result set written by the console's writer reads back as the same table, and cut or
// inconsistent input is refused rather than half-read.
#include <sabakan/protocol/result_reader.hpp>
#include <sabakan/protocol/result_set.hpp>

#include <array>
#include <string_view>

#include <gtest/gtest.h>

namespace sabakan::protocol {
namespace {

byte_buffer two_rows() {
    byte_buffer out;
    const std::array<std::string_view, 3> names{"database", "cl_active", "note"};
    append_row_description(out, names, "sis");
    {
        data_row_writer row{out};
        row.text("mastodon");
        row.number(7);
        row.null();
        row.finish();
    }
    {
        data_row_writer row{out};
        row.text("");
        row.number(-1);
        row.text("a b");
        row.finish();
    }
    append_command_complete(out, "SHOW");
    return out;
}

TEST(ResultReader, ReadsWhatTheWriterWrote) {
    auto bytes = two_rows();
    auto table = read_result_set(bytes);
    ASSERT_TRUE(table);
    ASSERT_EQ(table->columns.size(), 3U);
    EXPECT_EQ(table->columns[1], "cl_active");
    EXPECT_EQ(table->column("note"), 2);
    EXPECT_EQ(table->column("absent"), -1);
    ASSERT_EQ(table->rows.size(), 2U);
    EXPECT_EQ(table->rows[0][0], "mastodon");
    EXPECT_EQ(table->rows[0][1], "7");
    EXPECT_FALSE(table->rows[0][2].has_value());
    EXPECT_EQ(table->rows[1][0], "");  // empty text is not NULL
    EXPECT_EQ(table->rows[1][1], "-1");
    EXPECT_EQ(table->rows[1][2], "a b");
}

TEST(ResultReader, NoRowsIsAnEmptyTable) {
    byte_buffer out;
    const std::array<std::string_view, 1> names{"x"};
    append_row_description(out, names, "s");
    append_command_complete(out, "SHOW");
    auto table = read_result_set(out);
    ASSERT_TRUE(table);
    EXPECT_EQ(table->columns.size(), 1U);
    EXPECT_TRUE(table->rows.empty());
}

TEST(ResultReader, RefusesEveryTruncation) {
    auto bytes = two_rows();
    // Cut anywhere before the CommandComplete: every prefix that ends inside a message is
    // refused; the prefixes that end between messages are whole tables (checked by size).
    std::size_t whole = 0;
    for (std::size_t n = 0; n + 1 < bytes.size(); ++n) {
        auto table = read_result_set(bytes_view(bytes).first(n));
        if (table) {
            ++whole;
        }
    }
    EXPECT_EQ(whole, 3U);  // after 'T', after the first 'D', after the second 'D'
}

TEST(ResultReader, RefusesARowOfTheWrongWidth) {
    byte_buffer out;
    const std::array<std::string_view, 2> names{"a", "b"};
    append_row_description(out, names, "ss");
    data_row_writer row{out};
    row.text("only one");
    row.finish();
    EXPECT_FALSE(read_result_set(out));
}

TEST(ResultReader, RefusesARowBeforeTheDescription) {
    byte_buffer out;
    data_row_writer row{out};
    row.text("x");
    row.finish();
    EXPECT_FALSE(read_result_set(out));
    EXPECT_FALSE(read_result_set({}));
}

}  // namespace
}  // namespace sabakan::protocol
