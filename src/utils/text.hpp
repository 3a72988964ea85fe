#pragma once
// UTF-8 checks and the two ways text from a client is made safe to show: valid UTF-8 for JSON
// documents, and one escaped line for logs. Pure functions; thread-safe.

#include <string>
#include <string_view>

namespace flaskcart::text {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF, no truncated sequences.
bool is_valid_utf8(std::string_view bytes);

// The text with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view bytes);

// One printable line: control characters (C0, DEL, C1) and invalid bytes become \xNN (C1 as
// \u{NN}), and a backslash becomes \\, so a logged value can neither start a new line, drive a
// terminal, break a JSON log line nor pass for an escape it is not. Valid non-ASCII is kept.
std::string escape_for_log(std::string_view bytes);

// Characters (code points) in UTF-8 text: bytes that do not continue a sequence.
std::size_t utf8_length(std::string_view text);
// Without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view text);
std::string to_lower_ascii(std::string_view text);
// Escapes every regular-expression metacharacter so user text matches literally.
std::string escape_regex(std::string_view text);

}  // namespace flaskcart::text
