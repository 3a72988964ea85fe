#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <random>

namespace flaskcart::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

std::string generate_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id(16, '0');
    std::uint64_t bits = rng();
    for (char& c : id) {
        c = kHex[bits & 0xF];
        bits >>= 4;
    }
    return id;
}

bool is_safe_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

bhttp::response<bhttp::string_body> to_beast(Response&& response, unsigned version,
                                             const std::string& request_id, bool keep_alive) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), version};
    out.set(bhttp::field::server, "flaskcart");
    if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
    out.set("X-Request-Id", request_id);
    for (auto& [name, value] : response.headers) out.set(name, value);
    out.body() = std::move(response.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    return out;
}

}  // namespace

Server::Server(asio::io_context& io, asio::thread_pool& workers, ServerOptions options,
               RequestHandler handler)
    : io_(io), workers_(workers), options_(options), handler_(std::move(handler)), acceptor_(io) {}

unsigned short Server::port() const {
    return acceptor_.local_endpoint().port();
}

void Server::start(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);

    asio::co_spawn(io_, accept_connections(), asio::detached);
}

asio::awaitable<void> Server::accept_connections() {
    while (!stopping_) {
        boost::system::error_code ec;
        tcp::socket socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) break;
            spdlog::warn("accept failed: {}", ec.message());
            continue;
        }
        asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
}

void Server::shutdown() {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (beast::tcp_stream* stream : idle_streams_) stream->cancel();
}

asio::awaitable<void> Server::serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    std::string remote;
    {
        boost::system::error_code ec;
        auto endpoint = stream.socket().remote_endpoint(ec);
        if (!ec) remote = endpoint.address().to_string();
    }

    for (;;) {
        boost::system::error_code ec;
        // Idle: wait for the first byte of the next request. Only this wait is cancelled by
        // shutdown(), so a request the client has started sending is always read to the end.
        if (buffer.size() == 0) {
            if (stopping_) break;
            stream.expires_after(options_.idle_timeout);
            idle_streams_.insert(&stream);
            const std::size_t received = co_await stream.async_read_some(
                buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
            idle_streams_.erase(&stream);
            buffer.commit(received);
            if (ec || stopping_) break;
        }

        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
        parser.body_limit(options_.max_body_bytes);
        stream.expires_after(options_.header_timeout);
        co_await bhttp::async_read_header(stream, buffer, parser,
                                          asio::redirect_error(asio::use_awaitable, ec));
        const auto started = std::chrono::steady_clock::now();
        std::string request_id = generate_request_id();

        auto send_error_and_close = [&](const ApiError& error) -> asio::awaitable<void> {
            auto out = to_beast(Response::problem(error, ""), 11, request_id, false);
            stream.expires_after(options_.header_timeout);
            boost::system::error_code write_ec;
            co_await bhttp::async_write(stream, out,
                                        asio::redirect_error(asio::use_awaitable, write_ec));
            stream.socket().shutdown(tcp::socket::shutdown_both, write_ec);
            spdlog::info("request_id={} remote={} - - status={} (rejected before routing)",
                         request_id, remote, error.status());
            if (options_.metrics != nullptr) {
                options_.metrics->observe_request(
                    "rejected", error.status(),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                        .count());
            }
        };

        if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::connection_reset || ec == asio::error::eof) {
            break;
        }
        if (ec == bhttp::error::header_limit) {
            co_await send_error_and_close(ApiError(431, "headers-too-large",
                                                   "Request Header Fields Too Large",
                                                   "the request headers are too large"));
            break;
        }
        const auto too_large = [](std::size_t limit) {
            return ApiError::payload_too_large("the request body exceeds " + std::to_string(limit) +
                                               " bytes");
        };
        // Beast checks a declared Content-Length against the body limit while parsing the
        // header, so an oversized body is refused here without reading any of it.
        if (ec == bhttp::error::body_limit) {
            co_await send_error_and_close(too_large(options_.max_body_bytes));
            break;
        }
        if (ec) {
            co_await send_error_and_close(ApiError::bad_request("malformed HTTP request"));
            break;
        }
        const std::size_t body_limit = options_.body_limit_for
                                           ? options_.body_limit_for(parser.get().target())
                                           : options_.max_body_bytes;
        if (const auto declared = parser.content_length(); declared && *declared > body_limit) {
            co_await send_error_and_close(too_large(body_limit));
            break;
        }
        parser.body_limit(body_limit);
        // Clients that ask (curl does for bodies over 1 KiB) wait for this before sending the
        // body; the limits above have already been checked against the declared length.
        if (!parser.is_done() &&
            beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
            bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
            stream.expires_after(options_.header_timeout);
            co_await bhttp::async_write(stream, proceed,
                                        asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
        }
        if (!parser.is_done()) {
            stream.expires_after(options_.body_timeout);
            co_await bhttp::async_read(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec == bhttp::error::body_limit) {
                co_await send_error_and_close(too_large(body_limit));
                break;
            }
            if (ec) break;
        }

        bhttp::request<bhttp::string_body> raw = parser.release();
        Request request;
        request.method = std::string(raw.method_string());
        request.target = std::string(raw.target());
        request.remote_address = remote;
        for (const auto& field : raw) {
            std::string name(field.name_string());
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers[name] = std::string(field.value());
        }
        if (auto sent_id = request.header("x-request-id");
            sent_id && is_safe_request_id(*sent_id)) {
            request_id = std::string(*sent_id);
        }
        request.request_id = request_id;
        request.body = std::move(raw.body());
        const bool keep_alive = raw.keep_alive();
        const bool is_head = raw.method() == bhttp::verb::head;
        if (is_head) request.method = "GET";

        Response response;
        if (!parse_target(request.target, request)) {
            response = Response::problem(ApiError::bad_request("malformed request target"),
                                         request.target);
        } else if (in_flight_.load() >= options_.max_in_flight) {
            // Saturated: answer now rather than queue without bound.
            response = Response::problem(
                ApiError::unavailable("the server is busy; retry shortly", 1), request.path);
        } else {
            ++in_flight_;
            if (options_.metrics != nullptr) {
                ++options_.metrics->requests_in_flight;
                ++options_.metrics->requests_queued;
            }
            try {
                response = co_await asio::co_spawn(
                    workers_,
                    [this, &request]() -> asio::awaitable<Response> {
                        if (options_.metrics != nullptr) --options_.metrics->requests_queued;
                        co_return handler_(request);
                    },
                    asio::use_awaitable);
            } catch (const std::exception& error) {
                spdlog::error("request_id={} handler escaped: {}", request_id, error.what());
                response = Response::problem(ApiError::internal(), request.path);
            }
            --in_flight_;
            if (options_.metrics != nullptr) --options_.metrics->requests_in_flight;
        }

        const int status = response.status;
        const bool stay_open = keep_alive && !stopping_;
        auto out = to_beast(std::move(response), raw.version(), request_id, stay_open);
        stream.expires_after(options_.body_timeout);
        if (is_head) {
            bhttp::response_serializer<bhttp::string_body> serializer(out);
            co_await bhttp::async_write_header(stream, serializer,
                                               asio::redirect_error(asio::use_awaitable, ec));
        } else {
            co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
        }
        const auto elapsed =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        spdlog::info(
            "request_id={} remote={} method={} path={} status={} duration_ms={:.2f} "
            "db_commands={}",
            request_id, remote, raw.method_string(), request.path, status, elapsed,
            request.db_commands);
        if (options_.metrics != nullptr) {
            options_.metrics->observe_request(request.route.empty() ? "unrouted" : request.route,
                                              status, elapsed / 1000.0);
        }
        if (ec || !stay_open) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
}

}  // namespace flaskcart::http
