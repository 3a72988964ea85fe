#include "utils/text.hpp"

#include <cctype>
#include <cstdint>

namespace flaskcart::text {

namespace {

// Length of the valid UTF-8 sequence starting at bytes[i], or 0 when the byte there does not
// begin one. Ranges from RFC 3629 §4 (they exclude overlongs and surrogates).
std::size_t valid_sequence_length(std::string_view bytes, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) second_min = 0xA0;
        if (lead == 0xED) second_max = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) second_min = 0x90;
        if (lead == 0xF4) second_max = 0x8F;
    } else {
        return 0;
    }
    if (i + length > bytes.size()) return 0;
    if (byte(i + 1) < second_min || byte(i + 1) > second_max) return 0;
    for (std::size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return length;
}

void append_hex_escape(std::string& out, unsigned value, bool is_code_point) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += is_code_point ? "\\u{" : "\\x";
    out += kHex[(value >> 4) & 0xF];
    out += kHex[value & 0xF];
    if (is_code_point) out += '}';
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
    for (std::size_t i = 0; i < bytes.size();) {
        const std::size_t length = valid_sequence_length(bytes, i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

std::string to_valid_utf8(std::string_view bytes) {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    std::string out;
    out.reserve(bytes.size() + 8);
    for (std::size_t i = 0; i < bytes.size();) {
        const std::size_t length = valid_sequence_length(bytes, i);
        if (length == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
            ++i;
        } else {
            out.append(bytes.substr(i, length));
            i += length;
        }
    }
    return out;
}

std::string escape_for_log(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size();) {
        const std::size_t length = valid_sequence_length(bytes, i);
        const auto lead = static_cast<unsigned char>(bytes[i]);
        if (length == 0) {
            append_hex_escape(out, lead, false);
            ++i;
        } else if (length == 1) {
            if (lead < 0x20 || lead == 0x7F) {
                append_hex_escape(out, lead, false);
            } else if (lead == '\\') {
                out += "\\\\";
            } else {
                out += static_cast<char>(lead);
            }
            ++i;
        } else if (length == 2 && lead == 0xC2 && static_cast<unsigned char>(bytes[i + 1]) < 0xA0) {
            // U+0080..U+009F: C1 controls (CSI among them), which some terminals obey.
            append_hex_escape(out, static_cast<unsigned char>(bytes[i + 1]), true);
            i += 2;
        } else {
            out.append(bytes.substr(i, length));
            i += length;
        }
    }
    return out;
}

std::size_t utf8_length(std::string_view text) {
    std::size_t count = 0;
    for (unsigned char c : text) count += (c & 0xC0) != 0x80 ? 1 : 0;
    return count;
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::string to_lower_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string escape_regex(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 2);
    for (char c : text) {
        if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

}  // namespace flaskcart::text
