// Reads a simple-query result (RowDescription, DataRows, CommandComplete) back into a
// table of text values: how the metrics endpoint turns the admin console's own listings
// into Prometheus figures, so both always show the same numbers. Pure and allocating: it
// serves a scrape every few seconds, never the forwarding path.
#pragma once

#include <sabakan/protocol/bytes.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sabakan::protocol {

struct result_table {
    std::vector<std::string> columns;
    /// One entry per DataRow, one value per column; nullopt is SQL NULL.
    std::vector<std::vector<std::optional<std::string>>> rows;

    /// The index of the column named `name`, or -1.
    int column(std::string_view name) const noexcept;
};

/// Reads whole messages: one RowDescription, then DataRows; a CommandComplete (and anything
/// after it) ends the table. Nullopt when a message is cut short, a DataRow has the wrong
/// number of fields, or a DataRow comes before the RowDescription.
std::optional<result_table> read_result_set(bytes_view messages);

}  // namespace sabakan::protocol
