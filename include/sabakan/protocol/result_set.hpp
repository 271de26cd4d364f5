// Composes the messages of a simple-query result (RowDescription, DataRow, CommandComplete) into a
// buffer the caller owns, in the shape the admin console answers with. Pure: it never reads, writes
// or waits; sending the buffer is the caller's business.
#pragma once

#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/messages.hpp>  // append_notice, which result sets use too

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace sabakan::protocol {

/// Column types of a result set, one char each, so a row's layout reads as a short string
/// such as "ssiiT". All values are sent in text format (format code 0).
enum class column_type : char {
    text = 's',       // text, oid 25
    int4 = 'i',       // int4, oid 23
    int8 = 'q',       // int8, oid 20
    numeric = 'N',    // numeric, oid 1700
    timestamp = 'T',  // sent as text (oid 25), already formatted, e.g. "2026-11-22 10:16:52 UTC"
    bytea = 'b',      // bytea, oid 17
};

/// Appends a RowDescription ('T') with one column per entry of `names`; `types` holds one
/// column_type char per column. Precondition: names.size() == types.size(), every char of
/// `types` is a column_type, and there are at most 32767 columns (asserted).
void append_row_description(byte_buffer& out, std::span<const std::string_view> names,
                            std::string_view types);

/// Writes one DataRow ('D') field by field, straight into the output buffer; finish() fills
/// in the field count and the length. The only allocation is the buffer's own growth.
///
///     data_row_writer row{out};
///     row.text(pool.database);
///     row.number(pool.active);
///     row.null();
///     row.finish();
class data_row_writer {
public:
    /// Begins the message at the end of `out`; `out` must outlive the writer.
    explicit data_row_writer(byte_buffer& out);
    data_row_writer(const data_row_writer&) = delete;
    data_row_writer& operator=(const data_row_writer&) = delete;
    ~data_row_writer();

    void text(std::string_view value);
    /// A SQL NULL (field length -1), distinct from an empty string.
    void null();
    /// Decimal text, e.g. "-9223372036854775808".
    void number(std::int64_t value);
    void number(std::uint64_t value);
    /// Any other integer type, widened, so `number(42)` or `number(some_int)` is not ambiguous.
    template <std::integral T>
    requires(!std::same_as<T, bool>) void number(T value) {
        if constexpr (std::is_signed_v<T>) {
            number(static_cast<std::int64_t>(value));
        } else {
            number(static_cast<std::uint64_t>(value));
        }
    }

    /// Completes the message. Call exactly once; no field may be added afterwards.
    void finish();

private:
    message_writer w_;
    byte_buffer& out_;
    std::size_t count_pos_ = 0;  // offset of the Int16 field count in out_
    std::int32_t fields_ = 0;
    bool finished_ = false;
};

/// Appends a CommandComplete ('C') carrying `tag`, e.g. "SHOW" or "SELECT 3".
void append_command_complete(byte_buffer& out, std::string_view tag);

}  // namespace sabakan::protocol
