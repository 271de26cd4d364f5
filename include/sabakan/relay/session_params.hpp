// The reported parameters (client_encoding, DateStyle, TimeZone, ...) sabakan keeps in step
// between a client and the servers it borrows, so that one client's SET never shows in
// another. Both sides keep only the values that may differ from the pool's defaults (what
// a fresh server reports at login), so the common case costs two empty checks per link.
// Pure data and text: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sabakan::relay {

/// Parameters reported by PostgreSQL in ParameterStatus, as the pool's welcome lists them.
using parameter_list = std::vector<std::pair<std::string, std::string>>;

/// The names tracked: PostgreSQL's reported session parameters that applications set,
/// plus track_extra_parameters. At most 32.
class tracked_parameters {
public:
    explicit tracked_parameters(const std::vector<std::string>& extra);
    /// The index of `name` (compared without case), or -1 when it is not tracked.
    int index_of(std::string_view name) const noexcept;
    const std::string& name(int i) const noexcept { return names_[static_cast<std::size_t>(i)]; }
    int size() const noexcept { return static_cast<int>(names_.size()); }

private:
    std::vector<std::string> names_;
};

/// Values by tracked index, for the parameters that may differ from the pool's defaults.
class parameter_overrides {
public:
    const std::string* find(int i) const noexcept;
    void set(int i, std::string_view value);
    void erase(int i) noexcept;
    bool empty() const noexcept { return values_.empty(); }
    void clear() noexcept { values_.clear(); }
    std::size_t size() const noexcept { return values_.size(); }
    auto begin() const noexcept { return values_.begin(); }
    auto end() const noexcept { return values_.end(); }

private:
    std::vector<std::pair<std::uint8_t, std::string>> values_;
};

/// The value of `name` in `defaults` (compared without case), or nullptr.
const std::string* find_parameter(const parameter_list& defaults, std::string_view name) noexcept;

/// `value` as an SQL string literal that means the same whatever standard_conforming_strings
/// says.
std::string quote_literal(std::string_view value);

/// The SET commands that give a server with `server` overrides the values a client with
/// `client` overrides expects, or "" when they agree. `synced` gets a bit per parameter set.
std::string parameter_sync_query(const tracked_parameters& tracked, const parameter_list& defaults,
                                 const parameter_overrides& client,
                                 const parameter_overrides& server, std::uint32_t& synced);

}  // namespace sabakan::relay
