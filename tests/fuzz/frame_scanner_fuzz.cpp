// Proves that the message framer is safe on any byte stream, however the reads split it: every
// step stays inside its input, continuation bookkeeping adds up, the messages reported match a
// plain model of the stream, and whole messages decode without reading past their bodies.
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/messages.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <vector>

namespace {

using namespace sabakan::protocol;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "frame_scanner_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

// The sets the sessions use (server_connection.cpp, client_session.cpp, client_console.cpp),
// and none at all.
constexpr tag_set whole_sets[] = {
    tag_set{'Z', 'R', 'E', 'S', 'K', 'N', 'v'},
    tag_set{'p'},
    tag_set{'Q'},
    tag_set{},
};

struct message_event {
    char tag;
    std::uint32_t length;
    bool operator==(const message_event&) const = default;
};

struct outcome {
    std::vector<message_event> messages;
    bool bad_length = false;
    std::size_t consumed = 0;  // bytes of the stream passed over
    bool operator==(const outcome&) const = default;
};

std::uint32_t length_at(bytes_view in) {
    return (std::to_integer<std::uint32_t>(in[1]) << 24) |
           (std::to_integer<std::uint32_t>(in[2]) << 16) |
           (std::to_integer<std::uint32_t>(in[3]) << 8) | std::to_integer<std::uint32_t>(in[4]);
}

// What the scanner must report for `stream`, read in one go: the model of the stream the
// scanner is checked against, written as plainly as possible.
outcome model(bytes_view stream, tag_set whole, std::size_t max_whole, std::uint32_t max_length) {
    outcome out;
    std::size_t pos = 0;
    while (stream.size() - pos >= frame_scanner::header_size) {
        const bytes_view in = stream.subspan(pos);
        const char tag = static_cast<char>(in[0]);
        const std::uint32_t length = length_at(in);
        if (length < 4 || length > max_length) {
            out.bad_length = true;
            break;
        }
        const std::size_t total = std::size_t{length} + 1;
        if (whole.contains(tag) && total <= max_whole && in.size() < total) {
            break;  // waits for the whole of a wanted message
        }
        out.messages.push_back({tag, length});
        pos += std::min(total, in.size());
    }
    out.consumed = pos;
    return out;
}

void decode_whole(char tag, bytes_view whole_body) {
    // A copy of exactly the body's size, so a decoder reading past it is caught.
    const std::unique_ptr<std::byte[]> copy(new std::byte[whole_body.size()]);
    std::copy(whole_body.begin(), whole_body.end(), copy.get());
    const bytes_view body{copy.get(), whole_body.size()};
    // The backend messages a server connection reads itself (server_connection.cpp).
    switch (tag) {
        case 'E':
        case 'N': {
            error_fields f;
            (void)decode_error(body, f);
            break;
        }
        case 'S': {
            std::string_view name;
            std::string_view value;
            (void)decode_parameter_status(body, name, value);
            break;
        }
        case 'K': {
            cancel_key key;
            (void)decode_backend_key_data(body, key);
            break;
        }
        case 'R': {
            auth_request code{};
            bytes_view rest;
            if (decode_auth_request(body, code, rest)) {
                require(rest.data() >= body.data() &&
                            rest.data() + rest.size() <= body.data() + body.size(),
                        "auth request rest inside the body");
            }
            break;
        }
        default:
            break;
    }
}

// Feeds `stream` in the given read sizes, as the sessions' receive buffers see it: each step
// gets the bytes not consumed yet. They sit in a buffer of exactly their size, so that
// AddressSanitizer catches a read past the end of the input.
outcome scan(bytes_view stream, const std::vector<std::size_t>& reads, tag_set whole,
             std::size_t max_whole, std::uint32_t max_length) {
    frame_scanner sc(whole, max_whole, max_length);
    outcome out;
    std::size_t fed = 0;
    std::size_t read_no = 0;
    while (fed < stream.size() || read_no < reads.size()) {
        // The listed read sizes, then the rest in one read; a size of 0 is an empty step.
        const std::size_t n = read_no < reads.size() ? std::min(reads[read_no], stream.size() - fed)
                                                     : stream.size() - fed;
        ++read_no;
        fed += n;
        const std::size_t unconsumed = fed - out.consumed;
        const std::unique_ptr<std::byte[]> buf(new std::byte[unconsumed]);
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(out.consumed), unconsumed,
                    buf.get());
        std::size_t off = 0;
        for (;;) {
            const bytes_view in{buf.get() + off, unconsumed - off};
            const std::size_t before = sc.pending_body();
            require(sc.at_boundary() == (before == 0), "at_boundary() agrees with pending_body()");
            const bool check_header = before == 0 && in.size() >= frame_scanner::header_size;
            const bool header_ok = check_header && sc.header_ok(in);

            const scan_result r = sc.next(in);
            require(r.consumed() <= in.size(), "consumed bytes never exceed the input");
            if (r.consumed() > 0) {
                require(r.bytes.data() == in.data(), "a step consumes from the start of its input");
            }
            switch (r.status) {
                case scan_status::need_more:
                    require(r.consumed() == 0, "need_more consumes nothing");
                    require(sc.pending_body() == before, "need_more keeps the bookkeeping");
                    if (before > 0) {
                        require(in.empty(), "need_more inside a body only on empty input");
                    }
                    break;
                case scan_status::bad_length:
                    require(before == 0 && check_header && !header_ok,
                            "bad_length only on a header that header_ok() refuses");
                    require(r.consumed() == 0, "bad_length consumes nothing");
                    out.bad_length = true;
                    return out;
                case scan_status::continuation:
                    require(before > 0, "continuation only inside a message");
                    require(r.consumed() == std::min(before, in.size()) && r.consumed() > 0,
                            "continuation takes what is there, up to the rest of the body");
                    require(sc.pending_body() == before - r.consumed(),
                            "continuation counts down the body");
                    break;
                case scan_status::message: {
                    require(before == 0 && check_header && header_ok,
                            "message only on a header that header_ok() accepts");
                    require(r.tag == static_cast<char>(in[0]) && r.length == length_at(in),
                            "message reports the header's tag and length");
                    const std::size_t total = std::size_t{r.length} + 1;
                    require(r.consumed() >= frame_scanner::header_size,
                            "message consumes at least its header");
                    require(r.consumed() + sc.pending_body() == total,
                            "consumed plus pending is the whole message");
                    require(r.whole == (r.consumed() == total), "whole means all of it");
                    if (whole.contains(r.tag) && total <= max_whole) {
                        require(r.whole, "a wanted message is reported whole");
                    }
                    if (r.whole) {
                        require(r.body().size() == r.length - 4, "body is length - 4 bytes");
                        decode_whole(r.tag, r.body());
                    }
                    out.messages.push_back({r.tag, r.length});
                    break;
                }
            }
            if (r.status == scan_status::need_more) {
                break;
            }
            out.consumed += r.consumed();
            off += r.consumed();
        }
    }
    return out;
}

}  // namespace

// Input layout: [whole set][max_whole][max_length][read count] [read sizes...] [stream...].
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 4) {
        return -1;
    }
    const tag_set whole = whole_sets[data[0] % std::size(whole_sets)];
    // Small limits reach the "too long to wait for" and bad_length paths with short inputs.
    const std::size_t max_whole = 5 + std::size_t{data[1]} * 4;
    const std::uint32_t max_length = data[2] >= 0x80 ? 0x7fffffffu : 4u + data[2] * 4u;
    const std::size_t read_count = std::min<std::size_t>(data[3] % 16, size - 4);
    std::vector<std::size_t> reads(data + 4, data + 4 + read_count);
    const bytes_view stream{reinterpret_cast<const std::byte*>(data + 4 + read_count),
                            size - 4 - read_count};

    const outcome expected = model(stream, whole, max_whole, max_length);
    const outcome split = scan(stream, reads, whole, max_whole, max_length);
    require(split == expected, "split reads report what the model reads in one go");
    // One byte per read: the worst split a socket can produce.
    if (stream.size() <= 512) {
        const std::vector<std::size_t> bytewise(stream.size(), 1);
        require(scan(stream, bytewise, whole, max_whole, max_length) == expected,
                "byte-by-byte reads report what the model reads in one go");
    }
    return 0;
}
