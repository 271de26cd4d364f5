// Formatting shared by the SHOW listings.
#include "listing.hpp"

#include <fmt/format.h>

namespace sabakan::admin::detail {

void done(byte_buffer& out) {
    protocol::append_command_complete(out, "SHOW");
}

std::string timestamp(std::time_t t) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::array<char, 32> buf{};
    auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return std::string(buf.data(), n);
}

std::string pointer(const void* p) {
    return p == nullptr ? std::string() : fmt::format("{}", p);
}

void text_or_null(data_row_writer& row, std::string_view v) {
    if (v.empty()) {
        row.null();
    } else {
        row.text(v);
    }
}

std::int64_t seconds(config::duration d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace sabakan::admin::detail
