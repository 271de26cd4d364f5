// Proves that the startup-packet reader survives any bytes a client opens with: startup_length
// and decode_startup never read out of bounds, and whatever they accept has a legal length,
// views inside the packet, and encodes back to the same bytes; the options value's settings
// are read without fault.
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/protocol/tags.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace sabakan::protocol;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "startup_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

bool inside(std::string_view v, bytes_view packet) {
    const auto* b = reinterpret_cast<const char*>(packet.data());
    return v.data() >= b && v.data() + v.size() <= b + packet.size();
}

// One packet of exactly the length its length word gives. It is decoded from a copy of exactly
// its size, so that AddressSanitizer catches a read past its end.
void check_packet(bytes_view bytes) {
    const std::unique_ptr<std::byte[]> copy(new std::byte[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), copy.get());
    const bytes_view packet{copy.get(), bytes.size()};
    startup_packet sp;
    const startup_error e = decode_startup(packet, sp);
    if (e != startup_error::none) {
        return;
    }
    require(packet.size() >= 8 && packet.size() <= max_startup_packet, "accepted length");
    require(startup_length(packet) == packet.size(), "length word");
    byte_buffer again;
    switch (sp.kind) {
        case startup_kind::ssl_request:
        case startup_kind::gssenc_request:
            require(packet.size() == 8, "SSLRequest/GSSENCRequest size");
            require(sp.params.empty(), "request has no parameters");
            return;
        case startup_kind::cancel_request:
            require(packet.size() == 16, "CancelRequest size");
            append_cancel_request(again, sp.cancel);
            require(again.size() == packet.size() &&
                        std::memcmp(again.data(), packet.data(), packet.size()) == 0,
                    "CancelRequest re-encodes to the same bytes");
            return;
        case startup_kind::startup:
            break;
    }
    require((sp.version >> 16) == 3, "protocol major version 3");
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& [name, value] : sp.params) {
        require(!name.empty(), "parameter name not empty");
        require(inside(name, packet) && inside(value, packet), "views inside the packet");
        require(
            name.find('\0') == std::string_view::npos && value.find('\0') == std::string_view::npos,
            "no NUL inside a name or value");
        require(sp.has(name), "has() finds every name");
        params.emplace_back(name, value);
    }
    // The options value (PGOPTIONS): whatever it holds, each setting read has a name.
    std::vector<std::pair<std::string, std::string>> settings;
    if (decode_startup_options(sp.param("options"), settings)) {
        for (const auto& [name, value] : settings) {
            require(!name.empty() && name.find('=') == std::string::npos, "option setting name");
        }
    }
    // The writer always says 3.0; only such packets can be compared byte for byte.
    if (sp.version == 196608) {
        append_startup(again, params);
        require(again.size() == packet.size() &&
                    std::memcmp(again.data(), packet.data(), packet.size()) == 0,
                "StartupMessage re-encodes to the same bytes");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    bytes_view in{reinterpret_cast<const std::byte*>(data), size};

    // Any prefix: what a session may hold after a short read.
    check_packet(in);

    // The input as a stream of packets, read the way client_session::read_startup does:
    // length word first, refuse bad lengths, then decode exactly that many bytes (an
    // SSLRequest followed by a StartupMessage, for example).
    while (auto len = startup_length(in)) {
        if (*len < 8 || *len > max_startup_packet || *len > in.size()) {
            break;
        }
        check_packet(in.first(*len));
        in = in.subspan(*len);
    }
    return 0;
}
