// Tracked parameter names, override sets, and the SET text that brings a server in line.
#include <sabakan/relay/session_params.hpp>

#include <strings.h>

#include <algorithm>
#include <array>

namespace sabakan::relay {

namespace {

// Reported by PostgreSQL (GUC_REPORT) and set by applications and drivers; the spelling is
// the one ParameterStatus uses.
constexpr std::array<std::string_view, 6> always_tracked{
    "client_encoding", "DateStyle", "TimeZone", "IntervalStyle", "standard_conforming_strings",
    "application_name"};

constexpr std::size_t max_tracked = 32;  // the bits of a sync mask

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

tracked_parameters::tracked_parameters(const std::vector<std::string>& extra) {
    for (auto n : always_tracked) {
        names_.emplace_back(n);
    }
    for (const auto& n : extra) {
        if (names_.size() < max_tracked && index_of(n) < 0 && !n.empty()) {
            names_.push_back(n);
        }
    }
}

int tracked_parameters::index_of(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < names_.size(); ++i) {
        if (iequals(names_[i], name)) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

const std::string* parameter_overrides::find(int i) const noexcept {
    for (const auto& [index, value] : values_) {
        if (index == i) {
            return &value;
        }
    }
    return nullptr;
}

void parameter_overrides::set(int i, std::string_view value) {
    for (auto& [index, v] : values_) {
        if (index == i) {
            v = value;
            return;
        }
    }
    values_.emplace_back(static_cast<std::uint8_t>(i), value);
}

void parameter_overrides::erase(int i) noexcept {
    std::erase_if(values_, [i](const auto& kv) { return kv.first == i; });
}

const std::string* find_parameter(const parameter_list& defaults, std::string_view name) noexcept {
    for (const auto& [n, v] : defaults) {
        if (iequals(n, name)) {
            return &v;
        }
    }
    return nullptr;
}

std::string quote_literal(std::string_view value) {
    // E'' reads backslashes as escapes whether or not standard_conforming_strings is on,
    // so doubling both quotes and backslashes keeps the value exact either way.
    std::string out = "E'";
    for (char c : value) {
        if (c == '\'' || c == '\\') {
            out.push_back(c);
        }
        out.push_back(c);
    }
    out.push_back('\'');
    return out;
}

std::string parameter_sync_query(const tracked_parameters& tracked, const parameter_list& defaults,
                                 const parameter_overrides& client,
                                 const parameter_overrides& server, std::uint32_t& synced) {
    synced = 0;
    std::string sql;
    auto check = [&](int i) {
        if ((synced >> i) & 1u) {
            return;
        }
        const std::string* want = client.find(i);
        const std::string* have = server.find(i);
        const std::string* fallback = find_parameter(defaults, tracked.name(i));
        want = want != nullptr ? want : fallback;
        have = have != nullptr ? have : fallback;
        if (want == nullptr) {
            // No default known (PostgreSQL does not report it): a value another client
            // set goes back to the server's own default.
            if (have != nullptr) {
                synced |= 1u << i;
                sql += "RESET ";
                sql += tracked.name(i);
                sql += ";";
            }
            return;
        }
        if (have != nullptr && *want == *have) {
            return;
        }
        synced |= 1u << i;
        sql += "SET ";
        sql += tracked.name(i);
        sql += " = ";
        sql += quote_literal(*want);
        sql += ";";
    };
    for (const auto& [i, v] : client) {
        check(i);
    }
    for (const auto& [i, v] : server) {
        check(i);
    }
    return sql;
}

}  // namespace sabakan::relay
