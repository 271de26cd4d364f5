#include <sabakan/protocol/message_reader.hpp>
#include <sabakan/protocol/result_reader.hpp>
#include <sabakan/protocol/tags.hpp>

namespace sabakan::protocol {

int result_table::column(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i] == name) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

namespace {

bool read_description(message_reader& r, result_table& table) {
    const int count = r.i16();
    for (int i = 0; i < count && !r.failed(); ++i) {
        table.columns.emplace_back(r.cstring());
        r.bytes(18);  // table oid, attribute number, type oid, size, modifier, format
    }
    return r.expect_end();
}

bool read_row(message_reader& r, result_table& table) {
    const int count = r.i16();
    if (count < 0 || static_cast<std::size_t>(count) != table.columns.size()) {
        return false;
    }
    auto& row = table.rows.emplace_back();
    row.reserve(table.columns.size());
    for (int i = 0; i < count && !r.failed(); ++i) {
        const std::int32_t length = r.i32();
        if (length < 0) {
            row.emplace_back(std::nullopt);
        } else {
            row.emplace_back(std::string(as_text(r.bytes(static_cast<std::size_t>(length)))));
        }
    }
    return r.expect_end();
}

}  // namespace

std::optional<result_table> read_result_set(bytes_view messages) {
    result_table table;
    bool described = false;
    message_reader frames(messages);
    while (frames.remaining() > 0) {
        const auto tag = static_cast<backend_tag>(frames.u8());
        const std::int32_t length = frames.i32();
        if (frames.failed() || length < 4) {
            return std::nullopt;
        }
        message_reader body(frames.bytes(static_cast<std::size_t>(length) - 4));
        if (frames.failed()) {
            return std::nullopt;
        }
        if (tag == backend_tag::command_complete) {
            break;
        }
        if (tag == backend_tag::row_description && !described) {
            described = true;
            if (!read_description(body, table)) {
                return std::nullopt;
            }
        } else if (tag == backend_tag::data_row && described) {
            if (!read_row(body, table)) {
                return std::nullopt;
            }
        } else {
            return std::nullopt;
        }
    }
    if (!described) {
        return std::nullopt;
    }
    return table;
}

}  // namespace sabakan::protocol
