#include "http/json_body.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <cstdint>
#include <optional>
#include <unordered_set>
#include <vector>

#include "http/problem.hpp"

namespace flaskcart::http {

namespace {

// boost::json::parser's own handler (a value_stack), plus the text of every number that is a
// direct member of the top-level object. Boost 1.81 has no option to keep number text, but its
// basic_parser hands each handler the characters of every number.
// It also stops at the first key repeated within one object: boost::json keeps the last of
// repeated keys silently, so `{"role":"user","role":"admin"}` would be read differently by
// different JSON parsers in front of us; such a body is refused instead.
class TextKeepingHandler {
  public:
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    bool on_document_begin(boost::json::error_code&) { return true; }
    bool on_document_end(boost::json::error_code&) { return true; }
    bool on_object_begin(boost::json::error_code&) {
        ++depth_;
        object_keys_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t n, boost::json::error_code&) {
        --depth_;
        object_keys_.pop_back();
        stack_.push_object(n);
        return true;
    }
    bool on_array_begin(boost::json::error_code&) {
        ++depth_;
        return true;
    }
    bool on_array_end(std::size_t n, boost::json::error_code&) {
        --depth_;
        stack_.push_array(n);
        return true;
    }
    bool on_key_part(boost::json::string_view part, std::size_t, boost::json::error_code&) {
        stack_.push_chars(part);
        key_.append(part.data(), part.size());
        return true;
    }
    bool on_key(boost::json::string_view last, std::size_t, boost::json::error_code& ec) {
        stack_.push_key(last);
        key_.append(last.data(), last.size());
        if (!object_keys_.back().insert(key_).second) {
            repeated_key_ = std::move(key_);
            ec = boost::json::error::syntax;  // stops the parser; the caller reads repeated_key()
            return false;
        }
        if (depth_ == 1) member_key_ = key_;
        key_.clear();
        return true;
    }
    bool on_string_part(boost::json::string_view part, std::size_t, boost::json::error_code&) {
        stack_.push_chars(part);
        return true;
    }
    bool on_string(boost::json::string_view last, std::size_t, boost::json::error_code&) {
        stack_.push_string(last);
        return true;
    }
    bool on_number_part(boost::json::string_view part, boost::json::error_code&) {
        number_.append(part.data(), part.size());
        return true;
    }
    bool on_int64(std::int64_t i, boost::json::string_view last, boost::json::error_code&) {
        keep_number(last);
        stack_.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, boost::json::string_view last, boost::json::error_code&) {
        keep_number(last);
        stack_.push_uint64(u);
        return true;
    }
    bool on_double(double d, boost::json::string_view last, boost::json::error_code&) {
        keep_number(last);
        stack_.push_double(d);
        return true;
    }
    bool on_bool(bool b, boost::json::error_code&) {
        stack_.push_bool(b);
        return true;
    }
    bool on_null(boost::json::error_code&) {
        stack_.push_null();
        return true;
    }
    bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

    void reset() { stack_.reset(); }
    boost::json::value release() { return stack_.release(); }
    std::map<std::string, std::string, std::less<>> take_number_texts() {
        return std::move(number_texts_);
    }
    const std::optional<std::string>& repeated_key() const { return repeated_key_; }

  private:
    void keep_number(boost::json::string_view last) {
        number_.append(last.data(), last.size());
        if (depth_ == 1) number_texts_[member_key_] = number_;
        number_.clear();
    }

    boost::json::value_stack stack_;
    int depth_ = 0;
    std::string key_;
    std::string member_key_;
    std::string number_;
    std::map<std::string, std::string, std::less<>> number_texts_;
    std::vector<std::unordered_set<std::string>> object_keys_;
    std::optional<std::string> repeated_key_;
};

}  // namespace

JsonBody parse_json_body(std::string_view text) {
    boost::json::basic_parser<TextKeepingHandler> parser(boost::json::parse_options{});
    parser.handler().reset();
    boost::json::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (const auto& key = parser.handler().repeated_key()) {
        throw ApiError::bad_request("the body repeats the key \"" + *key + "\" in one object");
    }
    if (ec || used != text.size()) throw ApiError::bad_request("the body is not valid JSON");
    boost::json::value value = parser.handler().release();
    if (!value.is_object()) throw ApiError::bad_request("the body must be a JSON object");
    return {std::move(value.as_object()), parser.handler().take_number_texts()};
}

}  // namespace flaskcart::http
