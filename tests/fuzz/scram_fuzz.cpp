// Proves that both SCRAM-SHA-256 state machines survive any messages in any order: the server
// side (client-first, client-final) and the client side (server-first, server-final) answer
// with true or false and an error string, never crash, and a failed exchange stays failed.
#include <sabakan/auth/base64.hpp>
#include <sabakan/auth/scram.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace sabakan::auth;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "scram_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

// RFC 7677 §3's exchange (user "user", password "pencil"), so that the seeds can run it to
// the end on both sides.
constexpr std::string_view rfc_client_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view rfc_salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view rfc_secret =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
    ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

// The client runs PBKDF2 with the iteration count the server names. PostgreSQL is trusted to
// name a sane one (libpq caps nothing either), so larger counts are left out: they only make
// runs slow. RFC 7677's 4096 still runs.
constexpr int max_client_iterations = 4096;

bool iterations_too_high(std::string_view server_first) {
    while (!server_first.empty()) {
        const std::size_t comma = server_first.find(',');
        const std::string_view attr = server_first.substr(0, comma);
        if (attr.starts_with("i=")) {
            int value = 0;
            const char* end = attr.data() + attr.size();
            const auto [ptr, ec] = std::from_chars(attr.data() + 2, end, value);
            if (ec == std::errc{} && ptr == end && value > max_client_iterations) {
                return true;
            }
        }
        server_first =
            comma == std::string_view::npos ? std::string_view{} : server_first.substr(comma + 1);
    }
    return false;
}

// A message in a buffer of exactly its size, so that AddressSanitizer catches a read past its
// end (a std::string always has room for a NUL after its text).
class exact_copy {
public:
    explicit exact_copy(std::string_view text) : buf_(new char[text.size()]), size_(text.size()) {
        std::copy(text.begin(), text.end(), buf_.get());
    }
    operator std::string_view() const noexcept { return {buf_.get(), size_}; }

private:
    std::unique_ptr<char[]> buf_;
    std::size_t size_;
};

const scram_secret& secret() {
    static const scram_secret s = *parse_scram_secret(rfc_secret);
    return s;
}

void server_in_order(std::string_view first, std::string_view final_msg) {
    scram_server server{secret(), std::string(rfc_server_nonce)};
    std::string out;
    std::string error;
    if (!server.handle_client_first(first, out, error)) {
        require(!error.empty(), "a refused client-first says why");
        require(!server.handle_client_final(final_msg, out, error), "a failure is final");
        return;
    }
    require(out.starts_with("r=") && out.find(rfc_server_nonce) != std::string::npos &&
                out.ends_with(",s=" + std::string(rfc_salt_b64) + ",i=4096"),
            "server-first carries the nonces, the salt and the iterations");
    require(!server.authenticated(), "not authenticated after client-first");
    error.clear();
    if (!server.handle_client_final(final_msg, out, error)) {
        require(!error.empty(), "a refused client-final says why");
        require(!server.authenticated() && server.client_key().empty(), "no key after failure");
        return;
    }
    require(server.authenticated(), "authenticated after an accepted proof");
    require(server.client_key().size() == scram_key_size, "the ClientKey is recovered");
    const auto signature = out.starts_with("v=") ? base64_decode(out.substr(2)) : std::nullopt;
    require(signature && signature->size() == scram_key_size, "server-final is v=<signature>");
    require(!server.handle_client_first(first, out, error), "no second client-first");
}

void server_out_of_order(std::string_view final_msg, std::string_view first) {
    scram_server server{secret(), std::string(rfc_server_nonce)};
    std::string out;
    std::string error;
    require(!server.handle_client_final(final_msg, out, error) && !error.empty(),
            "client-final before client-first is refused");
    require(!server.handle_client_first(first, out, error), "a failure is final");
    require(!server.authenticated(), "never authenticated out of order");
}

void client_exchange(std::string_view first, std::string_view final_msg, bool final_early) {
    scram_client client{"pencil", std::string(rfc_client_nonce), "user"};
    std::string out;
    std::string error;
    if (final_early) {
        require(!client.verify_server_final(final_msg, error) && !error.empty(),
                "server-final before server-first is refused");
    }
    if (!client.handle_server_first(first, out, error)) {
        require(!error.empty(), "a refused server-first says why");
        require(!client.verify_server_final(final_msg, error), "no verification after failure");
        return;
    }
    const std::string prefix = "c=biws,r=" + std::string(rfc_client_nonce);
    const std::size_t proof = out.rfind(",p=");
    require(out.starts_with(prefix) && proof != std::string::npos && out.size() - proof - 3 == 44,
            "client-final is c=biws,r=<nonce>,p=<32-byte proof>");
    const bool verified = client.verify_server_final(final_msg, error);
    require(verified == client.verify_server_final(final_msg, error), "verification is stable");
    require(!client.handle_server_first(first, out, error), "no second server-first");
}

}  // namespace

// Input layout: one byte choosing the side and order, then two messages split at the first
// '\n' (SCRAM messages are printable ASCII, so the split costs no interesting input).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return -1;
    }
    const std::string_view rest{reinterpret_cast<const char*>(data + 1), size - 1};
    const std::size_t nl = rest.find('\n');
    const exact_copy one{rest.substr(0, nl)};
    const exact_copy two{nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1)};
    switch (data[0] % 4) {
        case 0:
            server_in_order(one, two);
            break;
        case 1:
            server_out_of_order(one, two);
            break;
        case 2:
            if (iterations_too_high(one)) {
                return -1;
            }
            client_exchange(one, two, false);
            break;
        default:
            if (iterations_too_high(two)) {
                return -1;
            }
            client_exchange(two, one, true);
            break;
    }
    return 0;
}
