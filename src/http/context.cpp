#include "http/context.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <string>
#include <unordered_set>
#include <vector>

namespace flaskcart::http {

namespace {

// A boost::json::basic_parser handler that only notes object keys and stops at the first key
// repeated within one object. boost::json::parse keeps the last of repeated keys silently
// (Boost 1.81 has no option to refuse them), so `{"role":"user","role":"admin"}` would be read
// differently by different JSON parsers in front of us: refuse it instead.
class DuplicateKeyFinder {
  public:
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

    std::optional<std::string> duplicate;

    bool on_document_begin(boost::system::error_code&) { return true; }
    bool on_document_end(boost::system::error_code&) { return true; }
    bool on_array_begin(boost::system::error_code&) { return true; }
    bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
    bool on_object_begin(boost::system::error_code&) {
        open_objects_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, boost::system::error_code&) {
        open_objects_.pop_back();
        return true;
    }
    bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code&) {
        return true;
    }
    bool on_string(boost::json::string_view, std::size_t, boost::system::error_code&) {
        return true;
    }
    bool on_key_part(boost::json::string_view part, std::size_t, boost::system::error_code&) {
        key_.append(part.data(), part.size());
        return true;
    }
    bool on_key(boost::json::string_view part, std::size_t, boost::system::error_code& ec) {
        key_.append(part.data(), part.size());
        if (!open_objects_.back().insert(key_).second) {
            duplicate = std::move(key_);
            ec = boost::json::error::syntax;  // stops the parser; the caller reads `duplicate`
            return false;
        }
        key_.clear();
        return true;
    }
    bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_int64(std::int64_t, boost::json::string_view, boost::system::error_code&) {
        return true;
    }
    bool on_uint64(std::uint64_t, boost::json::string_view, boost::system::error_code&) {
        return true;
    }
    bool on_double(double, boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_bool(bool, boost::system::error_code&) { return true; }
    bool on_null(boost::system::error_code&) { return true; }
    bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

  private:
    std::vector<std::unordered_set<std::string>> open_objects_;
    std::string key_;
};

// The first key that appears twice in one object of `json` (already known to be valid JSON).
std::optional<std::string> find_duplicate_key(std::string_view json) {
    boost::json::basic_parser<DuplicateKeyFinder> parser{boost::json::parse_options{}};
    boost::system::error_code ec;
    parser.write_some(false, json.data(), json.size(), ec);
    return std::move(parser.handler().duplicate);
}

}  // namespace

const std::string& RequestContext::path_param(const std::string& name) const {
    static const std::string kEmpty;
    auto it = params_.find(name);
    return it == params_.end() ? kEmpty : it->second;
}

std::optional<std::string> RequestContext::query_param(const std::string& name) const {
    auto it = request_.query.find(name);
    if (it == request_.query.end()) return std::nullopt;
    return it->second;
}

boost::json::object RequestContext::json_body() const {
    const auto content_type = request_.header("content-type");
    if (!content_type) throw ApiError::unsupported_media_type("send the body as application/json");
    std::string media(content_type->substr(0, content_type->find(';')));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (media != "application/json") {
        throw ApiError::unsupported_media_type("send the body as application/json");
    }
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(request_.body, ec);
    if (ec) throw ApiError::bad_request("the body is not valid JSON");
    if (!value.is_object()) throw ApiError::bad_request("the body must be a JSON object");
    if (auto key = find_duplicate_key(request_.body)) {
        throw ApiError::bad_request("the body repeats the key \"" + *key + "\" in one object");
    }
    return std::move(value.as_object());
}

boost::json::object RequestContext::optional_json_body() const {
    if (request_.body.empty()) return {};
    return json_body();
}

}  // namespace flaskcart::http
