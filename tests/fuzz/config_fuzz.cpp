// Proves that config::parse survives any ini text: it returns a config or throws config_error
// (its documented error report), and a config it returns can be listed by SHOW CONFIG, reloaded
// and searched. Inputs containing "%include" are refused, so no file is ever read.
#include <sabakan/config/config.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace sabakan;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "config_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text{reinterpret_cast<const char*>(data), size};
    // ini_reader.cpp recognises %include only as this exact, case-sensitive word at the start
    // of a line, so refusing every input that contains it anywhere keeps the parser away
    // from the file system (-1: libFuzzer does not add the input to the corpus).
    if (text.find("%include") != std::string_view::npos) {
        return -1;
    }
    const std::string file_name = "fuzz.ini";
    try {
        const config::config cfg = config::parse(text, file_name);
        require(cfg.file == file_name, "config::file is the name given");
        for (const config::database_entry& db : cfg.databases) {
            require(cfg.find_database(db.name) != nullptr, "every database can be found");
        }
        for (const config::user_entry& u : cfg.users) {
            require(cfg.find_user(u.name) != nullptr, "every user can be found");
        }
        const auto rows = config::show_config(cfg.bouncer);
        require(rows.size() == config::setting_list().size(), "SHOW CONFIG lists every key");
        // RELOAD against a running config with the defaults.
        config::settings fresh = cfg.bouncer;
        (void)config::keep_startup_settings(fresh, config::settings{});
    } catch (const config::config_error& e) {
        require(!e.diagnostics().empty(), "config_error carries at least one diagnostic");
        for (const config::diagnostic& d : e.diagnostics()) {
            (void)config::format(d);
        }
    }
    return 0;
}
