// Proves that parse_userlist survives any auth_file text, failing only with the documented
// std::runtime_error, and that every secret it returns is safe to classify and use: SCRAM
// secrets parse stably, and md5 answers computed from any other secret verify.
#include <sabakan/auth/md5.hpp>
#include <sabakan/auth/scram.hpp>
#include <sabakan/auth/userlist.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

namespace {

using namespace sabakan::auth;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "userlist_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

bool same(const scram_secret& a, const scram_secret& b) {
    return a.iterations == b.iterations && a.salt == b.salt && a.stored_key == b.stored_key &&
           a.server_key == b.server_key;
}

void check_secret(const std::string& user, const std::string& secret) {
    if (const auto scram = parse_scram_secret(secret)) {
        require(scram->iterations >= 1 && !scram->salt.empty(), "SCRAM secret fields");
        require(scram->stored_key.size() == scram_key_size &&
                    scram->server_key.size() == scram_key_size,
                "SCRAM key sizes");
        const auto again = parse_scram_secret(format_scram_secret(*scram));
        require(again && same(*again, *scram), "a SCRAM secret survives format and parse");
        return;
    }
    if (is_md5_secret(secret)) {
        require(secret.size() == 35, "md5 secret size");
    }
    // What a client knowing the password would answer, for a fixed salt.
    constexpr std::array<std::byte, 4> salt{std::byte{0x01}, std::byte{0x02}, std::byte{0x03},
                                            std::byte{0x04}};
    const std::string response = md5_salted_response(secret, user, salt);
    require(response.size() == 35, "md5 response size");
    require(verify_md5_response(secret, user, salt, response) == !secret.empty(),
            "an md5 answer computed from the stored secret verifies");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text{reinterpret_cast<const char*>(data), size};
    userlist list;
    try {
        list = parse_userlist(text, "userlist.txt");
    } catch (const std::runtime_error& e) {
        // The documented failure is std::runtime_error itself; a subclass (fmt::format_error,
        // std::range_error, ...) would be a different bug and stays a crash.
        if (typeid(e) != typeid(std::runtime_error)) {
            throw;
        }
        require(std::string_view(e.what()).starts_with("userlist.txt:"),
                "the error names the file and line");
        return 0;
    }
    for (const auto& [user, secret] : list.secrets) {
        require(!user.empty(), "user names are not empty");
        const std::string* found = list.find(user);
        require(found != nullptr && *found == secret, "find() returns the stored secret");
        check_secret(user, secret);
    }
    return 0;
}
