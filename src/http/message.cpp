#include "http/message.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "utils/text.hpp"

namespace flaskcart::http {

std::optional<std::string_view> Request::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
}

namespace {

// Boost.JSON 1.81 prints doubles in scientific form (60.07 → "6.007E1"). Prices are doubles on
// the wire, so responses are written here with the shortest round-trip decimal form instead.
void write_json(const boost::json::value& value, std::string& out) {
    switch (value.kind()) {
        case boost::json::kind::double_: {
            char buffer[64];
            auto result = std::to_chars(buffer, buffer + sizeof buffer, value.get_double());
            out.append(buffer, result.ptr);
            break;
        }
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& item : value.get_array()) {
                if (!first) out += ',';
                first = false;
                write_json(item, out);
            }
            out += ']';
            break;
        }
        case boost::json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& entry : value.get_object()) {
                if (!first) out += ',';
                first = false;
                out += boost::json::serialize(boost::json::string(entry.key()));
                out += ':';
                write_json(entry.value(), out);
            }
            out += '}';
            break;
        }
        default:
            out += boost::json::serialize(value);
    }
}

}  // namespace

std::string to_json_text(const boost::json::value& value) {
    std::string out;
    write_json(value, out);
    return out;
}

Response Response::json(int status, const boost::json::value& body) {
    Response response;
    response.status = status;
    response.body = to_json_text(body);
    return response;
}

Response Response::no_content() {
    Response response;
    response.status = 204;
    response.content_type.clear();
    return response;
}

Response Response::problem(const ApiError& error, const std::string& instance) {
    Response response;
    response.status = error.status();
    response.content_type = "application/problem+json";
    response.body = render_problem(error, instance);
    response.headers = error.headers();
    return response;
}

void parse_target(std::string_view target, Request& out) {
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) throw ApiError::bad_request("malformed request target");
    const boost::urls::url_view& url = *parsed;
    const auto is_clean_text = [](std::string_view decoded) {
        return text::is_valid_utf8(decoded) && decoded.find('\0') == std::string_view::npos;
    };
    out.path = url.path();
    if (out.path.empty()) out.path.push_back('/');  // (assigning "/" trips GCC 12 -O3 -Wrestrict)
    if (!is_clean_text(out.path)) {
        // The raw path is not echoed: the problem's `instance` is the decoded path, made valid.
        throw ApiError::bad_request("the decoded path is not valid UTF-8 text");
    }
    out.path_segments.clear();
    for (std::string segment : url.segments()) {
        if (!segment.empty()) out.path_segments.push_back(std::move(segment));
    }
    FieldErrors errors;
    for (const auto& param : url.params()) {
        const std::string value = param.has_value ? param.value : std::string();
        if (!is_clean_text(param.key) || !is_clean_text(value)) {
            errors.emplace_back(text::to_valid_utf8(param.key), "must be valid UTF-8 text");
            continue;
        }
        out.query.emplace(param.key, value);
    }
    if (!errors.empty()) throw ApiError::validation(std::move(errors));
}

}  // namespace flaskcart::http
