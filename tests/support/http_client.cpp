#include "support/http_client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <functional>

namespace flaskcart::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

boost::json::value HttpResponse::json() const {
    return boost::json::parse(body);
}

std::string HttpResponse::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

Headers bearer(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
}

HttpResponse HttpClient::request(const std::string& method, const std::string& target,
                                 const std::string& body, const Headers& headers,
                                 const std::string& content_type) const {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(port_)));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.method_string(method);
    req.set(bhttp::field::host, "127.0.0.1");
    req.keep_alive(false);
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!body.empty()) {
        if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
        req.body() = body;
    }
    req.prepare_payload();
    bhttp::write(stream, req);

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (method == "HEAD") parser.skip(true);
    bhttp::read(stream, buffer, parser);
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
    }
    out.body = std::move(res.body());
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return out;
}

HttpResponse HttpClient::get(const std::string& target, const std::string& token) const {
    return request("GET", target, {}, bearer(token));
}

HttpResponse HttpClient::post(const std::string& target, const boost::json::value& body,
                              const std::string& token, const Headers& headers) const {
    Headers all = bearer(token);
    all.insert(all.end(), headers.begin(), headers.end());
    return request("POST", target, boost::json::serialize(body), all);
}

HttpResponse HttpClient::put(const std::string& target, const boost::json::value& body,
                             const std::string& token) const {
    return request("PUT", target, boost::json::serialize(body), bearer(token));
}

HttpResponse HttpClient::del(const std::string& target, const std::string& token) const {
    return request("DELETE", target, {}, bearer(token));
}

std::string HttpClient::raw(const std::string& bytes) const {
    RawConnection connection(port_);
    connection.send(bytes);
    return connection.read_until_closed();
}

RawConnection::RawConnection(int port) : socket_(io_) {
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(port)));
}

void RawConnection::send(const std::string& bytes) {
    asio::write(socket_, asio::buffer(bytes));
}

std::string RawConnection::read_some() {
    char buffer[4096];
    beast::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
    return std::string(buffer, n);
}

std::string RawConnection::read_until_closed() {
    std::string out;
    for (;;) {
        char buffer[4096];
        beast::error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
        out.append(buffer, n);
        if (ec) return out;
    }
}

std::optional<std::string> RawConnection::read_until_closed_within(
    std::chrono::milliseconds timeout) {
    std::string out;
    bool closed = false;
    std::array<char, 4096> buffer{};
    std::function<void()> read_more = [&] {
        socket_.async_read_some(asio::buffer(buffer), [&](beast::error_code ec, std::size_t n) {
            out.append(buffer.data(), n);
            if (ec) {
                closed = true;
                return;
            }
            read_more();
        });
    };
    read_more();
    io_.restart();
    io_.run_for(timeout);
    if (closed) return out;
    beast::error_code ignored;
    socket_.cancel(ignored);
    io_.restart();
    io_.run();
    return std::nullopt;
}

}  // namespace flaskcart::testing
