#include "http/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "http/log_throttle.hpp"
#include "utils/crypto.hpp"

namespace flaskcart::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

struct Server::Session {
    explicit Session(tcp::socket socket) : stream(std::move(socket)) {}

    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::string remote;
    // Waiting for a request, the only wait shutdown() cancels. Read and written on the
    // session's strand only.
    bool is_idle = false;
};

// What reading one request gave: a request, or an error to answer before closing, or neither
// (the client went away or timed out, and the connection just closes).
struct Server::ReadResult {
    std::optional<Request> request;
    std::optional<ApiError> rejection;
    std::string request_id;
    unsigned version = 11;
    bool keep_alive = false;
    bool is_head = false;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

namespace {

// A refused connection gets its 503 and is drained for at most this long before it closes (a
// client sends its request at once; a flood of silent connections must not hold slots long).
constexpr auto kRefusalLinger = 500ms;
// Beyond this many refusals being written at once, new connections over the cap are closed
// without an answer: a flood must not turn the refusals themselves into the exhaustion. Their
// descriptors are kept free below the file-descriptor limit, like the connections'.
constexpr std::size_t kMaxRefusalsInProgress = 32;
constexpr auto kMinAcceptBackoff = 10ms;
constexpr auto kMaxAcceptBackoff = 1s;
constexpr auto kAcceptLogInterval = 10s;

// Decrements a counter when a scope ends, however it ends.
class CountedScope {
  public:
    explicit CountedScope(std::atomic<std::size_t>& counter) : counter_(counter) {}
    ~CountedScope() { --counter_; }
    CountedScope(const CountedScope&) = delete;
    CountedScope& operator=(const CountedScope&) = delete;

  private:
    std::atomic<std::size_t>& counter_;
};

// 16 hex digits. A request id must be unique, not secret: each thread starts at a random
// 64-bit number (libsodium's CSPRNG, once) and counts up, so a request costs no system call;
// the ranges of two threads or instances would have to meet for two ids to collide.
std::string generate_request_id() {
    thread_local std::uint64_t next = std::stoull(crypto::random_hex(8), nullptr, 16);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string id(16, '0');
    std::uint64_t value = next++;
    for (std::size_t i = id.size(); i-- > 0; value >>= 4) id[i] = kDigits[value & 0xF];
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

// The client went away, or was too slow: nothing to answer, the connection just closes.
bool is_connection_gone(const boost::system::error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
           ec == beast::error::timeout || ec == asio::error::connection_reset ||
           ec == asio::error::eof || ec == asio::error::operation_aborted ||
           ec == asio::error::broken_pipe;
}

// accept() fails this way when the process or the system is out of descriptors or memory:
// retrying at once spins (the pending connection stays pending), so the loop backs off.
bool is_resource_exhaustion(const boost::system::error_code& ec) {
    return ec == asio::error::no_descriptors || ec.value() == ENFILE ||
           ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// RFC 9112 §6: only "chunked" is a transfer coding we decode. Anything else must not be framed
// by Content-Length instead (request smuggling), and both together are refused.
std::optional<ApiError> check_message_framing(const bhttp::request_header<>& header) {
    auto [first, last] = header.equal_range(bhttp::field::transfer_encoding);
    if (first == last) return std::nullopt;
    std::size_t fields = 0;
    std::string_view coding;
    for (auto it = first; it != last; ++it) {
        ++fields;
        coding = trim(it->value());
    }
    if (fields != 1 || !beast::iequals(coding, "chunked")) {
        return ApiError(501, "not-implemented", "Not Implemented",
                        "the only supported Transfer-Encoding is chunked");
    }
    if (header.count(bhttp::field::content_length) > 0) {
        return ApiError::bad_request("send either Transfer-Encoding or Content-Length, not both");
    }
    return std::nullopt;
}

// The status line and header fields of `response`, byte for byte what Beast's serializer wrote
// for the same fields: Server, Content-Type, X-Content-Type-Options, X-Request-Id, then the
// response's own fields (a later field replaces an earlier one of the same name, as Beast's
// set() does), then Connection as keep_alive needs it and Content-Length (never on 1xx, 204 or
// 304). Written here, in one string, so a response can leave in one system call
// (send_response()).
std::string response_head(const Response& response, unsigned version, const std::string& request_id,
                          bool keep_alive) {
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    fields.reserve(6 + response.headers.size());
    const auto set = [&fields](std::string_view name, std::string_view value) {
        std::erase_if(fields,
                      [name](const auto& field) { return beast::iequals(field.first, name); });
        fields.emplace_back(name, value);
    };
    set("Server", "flaskcart");
    if (!response.content_type.empty()) set("Content-Type", response.content_type);
    // Every body is JSON or an image of a declared type: browsers must not guess otherwise.
    set("X-Content-Type-Options", "nosniff");
    set("X-Request-Id", request_id);
    for (const auto& [name, value] : response.headers) set(name, value);
    if (version >= 11 && !keep_alive) set("Connection", "close");
    if (version < 11 && keep_alive) set("Connection", "keep-alive");
    const std::string length = std::to_string(response.body.size());
    const bool has_body =
        response.status / 100 != 1 && response.status != 204 && response.status != 304;
    if (has_body) set("Content-Length", length);

    std::string head = version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ";
    head += std::to_string(response.status);
    head += ' ';
    head += bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
    head += "\r\n";
    for (const auto& [name, value] : fields) {
        head.append(name).append(": ").append(value).append("\r\n");
    }
    head += "\r\n";
    return head;
}

// Puts a new connection's socket in non-blocking mode, once (an ioctl), for send_response().
// If that fails, responses simply go asynchronously.
void make_non_blocking(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
}

// Sends `head` then `body`: first straight to the socket when it is non-blocking (a response
// usually fits the send buffer, and then costs no asynchronous operation, timer or trip through
// the scheduler), then whatever is left asynchronously, within `timeout`. False when the client
// is gone.
asio::awaitable<bool> send_response(beast::tcp_stream& stream, const std::string& head,
                                    std::string_view body, std::chrono::milliseconds timeout) {
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
    boost::system::error_code ec;
    std::size_t sent = 0;
    if (stream.socket().non_blocking()) {  // a flag, no system call
        sent = stream.socket().write_some(buffers, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
        if (ec) co_return false;  // the client is gone
    }
    if (sent == head.size() + body.size()) co_return true;
    beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(buffers);
    rest.consume(sent);
    stream.expires_after(timeout);
    co_await asio::async_write(stream, rest, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
}

Request to_request(bhttp::request<bhttp::string_body>& raw, const std::string& remote) {
    Request request;
    request.method = std::string(raw.method_string());
    request.target = std::string(raw.target());
    request.remote_address = remote;
    for (const auto& field : raw) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto [it, inserted] = request.headers.try_emplace(name, field.value());
        if (inserted) continue;
        // Repeated X-Forwarded-For lines form one list, in order (RFC 9110 §5.3): each proxy in
        // a chain may append its own line. Other fields keep the last value.
        if (name == "x-forwarded-for") {
            it->second.append(", ").append(field.value());
        } else {
            it->second = std::string(field.value());
        }
    }
    request.body = std::move(raw.body());
    return request;
}

using RequestParser = bhttp::request_parser<bhttp::string_body>;

ApiError body_too_large(std::size_t limit) {
    return ApiError::payload_too_large("the request body exceeds " + std::to_string(limit) +
                                       " bytes");
}

// The refusal a request earns once its header is read (`ec` from reading it), if any.
std::optional<ApiError> check_header(const boost::system::error_code& ec,
                                     const RequestParser& parser, std::size_t max_body_bytes) {
    if (ec == bhttp::error::header_limit) {
        return ApiError(431, "headers-too-large", "Request Header Fields Too Large",
                        "the request headers are too large");
    }
    // Beast checks a declared Content-Length against the body limit while parsing the header,
    // so an oversized body is refused here without reading any of it.
    if (ec == bhttp::error::body_limit) return body_too_large(max_body_bytes);
    if (ec) return ApiError::bad_request("malformed HTTP request");
    return check_message_framing(parser.get());
}

// Parses what is already read (wait_for_request() usually reads a whole request at once): an
// asynchronous read would complete at once, but through the scheduler. Up to the end of the
// header, or of the whole message with `whole_message`. True when that end is reached or `ec`
// says why it cannot be; false when more must be read.
bool parse_buffered(beast::flat_buffer& buffer, RequestParser& parser, bool whole_message,
                    boost::system::error_code& ec) {
    const auto reached = [&] { return whole_message ? parser.is_done() : parser.is_header_done(); };
    parser.eager(whole_message);
    while (!reached() && buffer.size() > 0) {
        const std::size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec == bhttp::error::need_more) {
            ec = {};
            return false;
        }
        if (ec) return true;
        if (used == 0) return false;
    }
    return reached();
}

// Reading a body: complete, or refused (rejection set), or the client went away (neither).
struct BodyRead {
    bool is_complete = false;
    std::optional<ApiError> rejection;
};

// Reads the body the parser still expects, within its body limit, answering 100-continue
// first when the client asks for it.
asio::awaitable<BodyRead> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                    RequestParser& parser, std::size_t body_limit,
                                    const ServerOptions& options) {
    if (parser.is_done()) co_return BodyRead{.is_complete = true};
    boost::system::error_code ec;
    // Clients that ask (curl does for bodies over 1 KiB) wait for this before sending the body;
    // the limits have already been checked against the declared length.
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
        stream.expires_after(options.header_timeout);
        co_await bhttp::async_write(stream, proceed, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return BodyRead{};
    }
    if (!parse_buffered(buffer, parser, true, ec)) {
        stream.expires_after(options.body_timeout);
        co_await bhttp::async_read(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec == bhttp::error::body_limit) {
        co_return BodyRead{.rejection = body_too_large(body_limit)};
    }
    if (is_connection_gone(ec)) co_return BodyRead{};
    // A chunk size that overflows, a bad chunk delimiter, ...: answered, not just dropped.
    if (ec) {
        co_return BodyRead{.rejection = ApiError::bad_request("malformed request body framing")};
    }
    co_return BodyRead{.is_complete = true};
}

// Requests running or queued on the worker pool, for /metrics (no-op without a registry).
class MetricsInFlight {
  public:
    explicit MetricsInFlight(metrics::Registry* registry) : registry_(registry) {
        if (registry_ == nullptr) return;
        ++registry_->requests_in_flight;
        ++registry_->requests_queued;
    }
    ~MetricsInFlight() {
        if (registry_ == nullptr) return;
        left_queue();
        --registry_->requests_in_flight;
    }
    MetricsInFlight(const MetricsInFlight&) = delete;
    MetricsInFlight& operator=(const MetricsInFlight&) = delete;
    void left_queue() {
        if (registry_ != nullptr && !left_queue_.exchange(true)) --registry_->requests_queued;
    }

  private:
    metrics::Registry* registry_;
    std::atomic<bool> left_queue_{false};
};

}  // namespace

Server::Server(asio::io_context& io, asio::thread_pool& workers, ServerOptions options,
               RequestHandler handler)
    : io_(io),
      workers_(workers),
      options_(std::move(options)),
      cors_(options_.cors_allowed_origins),
      handler_(std::move(handler)),
      accept_strand_(asio::make_strand(io)),
      acceptor_(accept_strand_) {
    crypto::sodium_ready();  // request ids come from its random source
}

unsigned short Server::port() const {
    return acceptor_.local_endpoint().port();
}

void Server::lower_connection_cap_to_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const std::size_t reserved = options_.reserved_file_descriptors + kMaxRefusalsInProgress;
    const rlim_t wanted = static_cast<rlim_t>(options_.max_connections + reserved);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        // The soft limit may be raised up to the hard one without privileges.
        rlimit raised = limit;
        raised.rlim_cur =
            limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted) return;
    const auto available = static_cast<std::size_t>(limit.rlim_cur);
    const std::size_t cap = available > reserved + 1 ? available - reserved : 1;
    spdlog::warn(
        "the file-descriptor limit is {}: serving at most {} connections instead of {} (raise "
        "the limit with ulimit -n)",
        available, cap, options_.max_connections);
    options_.max_connections = cap;
}

void Server::start(const tcp::endpoint& endpoint) {
    lower_connection_cap_to_descriptor_limit();
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);

    asio::co_spawn(accept_strand_, accept_connections(), asio::detached);
}

asio::awaitable<void> Server::accept_connections() {
    asio::steady_timer backoff(accept_strand_);
    auto pause = std::chrono::milliseconds(kMinAcceptBackoff);
    LogThrottle failure_log(kAcceptLogInterval);
    LogThrottle refusal_log(kAcceptLogInterval);
    while (!stopping_) {
        boost::system::error_code ec;
        // Each connection gets its own strand: its session may resume on any network thread,
        // one step at a time.
        tcp::socket socket =
            co_await acceptor_.async_accept(asio::any_io_executor(asio::make_strand(io_)),
                                            asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) break;
            if (auto held_back = failure_log.admit(std::chrono::steady_clock::now())) {
                spdlog::warn("accept failed: {} ({} similar failures not logged before this)",
                             ec.message(), *held_back);
            }
            if (is_resource_exhaustion(ec)) {
                backoff.expires_after(pause);
                co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                pause = std::min(pause * 2, std::chrono::milliseconds(kMaxAcceptBackoff));
            }
            continue;
        }
        pause = kMinAcceptBackoff;
        const auto executor = socket.get_executor();
        if (open_connections_.load() >= options_.max_connections) {
            if (auto held_back = refusal_log.admit(std::chrono::steady_clock::now())) {
                spdlog::warn(
                    "refusing connections: {} are open, the cap ({} more refused before "
                    "this)",
                    options_.max_connections, *held_back);
            }
            if (refusals_in_progress_.load() < kMaxRefusalsInProgress) {
                ++refusals_in_progress_;
                asio::co_spawn(executor, refuse(std::move(socket)), asio::detached);
            }
            continue;  // (otherwise the socket closes here, unanswered)
        }
        ++open_connections_;
        asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> Server::refuse(tcp::socket socket) {
    CountedScope refusal(refusals_in_progress_);
    make_non_blocking(socket);
    beast::tcp_stream stream(std::move(socket));
    const Response refusal_response = Response::problem(
        ApiError::unavailable("the server has too many open connections; retry shortly", 1), "");
    stream.expires_after(kRefusalLinger);
    co_await send_response(stream,
                           response_head(refusal_response, 11, generate_request_id(), false),
                           refusal_response.body, kRefusalLinger);
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    // Read (and drop) the client's request until it closes: closing with unread data would
    // reset the connection, and the reset can destroy the answer before the client reads it.
    std::array<char, 1024> discard{};
    while (!ec) {
        co_await stream.async_read_some(asio::buffer(discard),
                                        asio::redirect_error(asio::use_awaitable, ec));
    }
    stream.socket().close(ec);
}

void Server::shutdown() {
    if (stopping_.exchange(true)) return;
    asio::post(accept_strand_, [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    });
    std::lock_guard lock(sessions_mutex_);
    for (const auto& [session_id, session] : sessions_) {
        // Checked and cancelled on the session's own strand, where is_idle is kept; the session
        // may have ended by then.
        asio::post(session->stream.get_executor(), [this, id = session_id] {
            std::lock_guard inner(sessions_mutex_);
            if (auto it = sessions_.find(id); it != sessions_.end() && it->second->is_idle) {
                it->second->stream.cancel();
            }
        });
    }
}

// Registered once per connection, not per request: the lock stays off the request path.
class Server::SessionRegistration {
  public:
    SessionRegistration(Server& server, Session& session)
        : server_(server), id_(server.next_session_id_++) {
        std::lock_guard lock(server_.sessions_mutex_);
        server_.sessions_.emplace(id_, &session);
    }
    ~SessionRegistration() {
        std::lock_guard lock(server_.sessions_mutex_);
        server_.sessions_.erase(id_);
    }
    SessionRegistration(const SessionRegistration&) = delete;
    SessionRegistration& operator=(const SessionRegistration&) = delete;

  private:
    Server& server_;
    std::uint64_t id_;
};

asio::awaitable<void> Server::serve(tcp::socket socket) {
    CountedScope connection(open_connections_);
    make_non_blocking(socket);
    Session session(std::move(socket));
    SessionRegistration registration(*this, session);
    {
        boost::system::error_code ec;
        auto endpoint = session.stream.socket().remote_endpoint(ec);
        if (!ec) session.remote = endpoint.address().to_string();
    }
    for (bool is_first = true;; is_first = false) {
        if (!co_await wait_for_request(session, is_first)) break;
        ReadResult read = co_await read_request(session, is_first);
        if (read.rejection) {
            co_await reject_and_close(session, *read.rejection, read.request_id);
            break;
        }
        if (!read.request) break;
        Request& request = *read.request;
        Response response = co_await run_request(request);
        cors_.add_headers(request, response);
        const int status = response.status;
        const bool stay_open = read.keep_alive && !stopping_;
        const bool written = co_await write_response(session, std::move(response), request,
                                                     read.version, stay_open, read.is_head);
        const auto elapsed = std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - read.started)
                                 .count();
        spdlog::info(
            "request_id={} remote={} method={} path={} status={} duration_ms={:.2f} "
            "db_commands={}",
            request.request_id, session.remote, read.is_head ? "HEAD" : request.method,
            request.path.empty() ? request.target : request.path, status, elapsed,
            request.db_commands);
        if (options_.metrics != nullptr) {
            options_.metrics->observe_request(request.route.empty() ? "unrouted" : request.route,
                                              status, elapsed / 1000.0);
        }
        if (!written || !stay_open) break;
    }
    boost::system::error_code ignored;
    session.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    session.stream.socket().close(ignored);
}

asio::awaitable<bool> Server::wait_for_request(Session& session, bool is_first) {
    if (session.buffer.size() > 0) co_return true;  // the next request is already here
    // A new connection must send its request within the header timeout; this deadline runs on
    // through read_request, so sending nothing, or one byte, holds a connection no longer.
    session.stream.expires_after(is_first ? options_.header_timeout : options_.idle_timeout);
    // shutdown() sets stopping_ before it posts its cancels: either this sees it, or the cancel
    // (run on this strand after the read has started) sees is_idle.
    session.is_idle = true;
    if (stopping_) co_return false;
    // Only this wait is cancelled by shutdown(), so a request the client has started sending is
    // always read to the end.
    boost::system::error_code ec;
    const std::size_t received = co_await session.stream.async_read_some(
        session.buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
    session.is_idle = false;
    session.buffer.commit(received);
    co_return !ec && !stopping_;
}

asio::awaitable<Server::ReadResult> Server::read_request(Session& session, bool is_first) {
    ReadResult result;
    result.request_id = generate_request_id();
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    parser.body_limit(options_.max_body_bytes);
    boost::system::error_code ec;
    if (!parse_buffered(session.buffer, parser, false, ec)) {
        if (!is_first) session.stream.expires_after(options_.header_timeout);
        co_await bhttp::async_read_header(session.stream, session.buffer, parser,
                                          asio::redirect_error(asio::use_awaitable, ec));
    }
    result.started = std::chrono::steady_clock::now();
    if (is_connection_gone(ec)) co_return result;
    result.rejection = check_header(ec, parser, options_.max_body_bytes);
    if (result.rejection) co_return result;
    const std::size_t body_limit = options_.body_limit_for
                                       ? options_.body_limit_for(parser.get().target())
                                       : options_.max_body_bytes;
    if (const auto declared = parser.content_length(); declared && *declared > body_limit) {
        result.rejection = body_too_large(body_limit);
        co_return result;
    }
    parser.body_limit(body_limit);
    BodyRead body =
        co_await read_body(session.stream, session.buffer, parser, body_limit, options_);
    if (!body.is_complete) {
        result.rejection = std::move(body.rejection);
        co_return result;
    }
    bhttp::request<bhttp::string_body> raw = parser.release();
    result.version = raw.version();
    result.keep_alive = raw.keep_alive();
    result.is_head = raw.method() == bhttp::verb::head;
    Request request = to_request(raw, session.remote);
    if (auto sent_id = request.header("x-request-id"); sent_id && is_safe_request_id(*sent_id)) {
        result.request_id = std::string(*sent_id);
    }
    request.request_id = result.request_id;
    if (result.is_head) request.method = "GET";
    result.request = std::move(request);
    co_return result;
}

asio::awaitable<Response> Server::run_request(Request& request) {
    try {
        parse_target(request.target, request);
    } catch (const ApiError& error) {
        co_return Response::problem(error, request.path.empty() ? request.target : request.path);
    }
    if (auto preflight = cors_.answer_preflight(request)) co_return std::move(*preflight);
    if (options_.runs_on_network_thread && options_.runs_on_network_thread(request)) {
        try {
            co_return handler_(request);
        } catch (const std::exception& error) {
            spdlog::error("request_id={} handler escaped: {}", request.request_id, error.what());
        }
        co_return Response::problem(ApiError::internal(), request.path);
    }
    if (in_flight_.fetch_add(1) >= options_.max_in_flight) {
        --in_flight_;
        // Saturated: answer now rather than queue without bound.
        co_return Response::problem(ApiError::unavailable("the server is busy; retry shortly", 1),
                                    request.path);
    }
    CountedScope in_flight(in_flight_);
    MetricsInFlight counted(options_.metrics);
    try {
        co_return co_await asio::co_spawn(
            workers_,
            [this, &request, &counted]() -> asio::awaitable<Response> {
                counted.left_queue();
                co_return handler_(request);
            },
            asio::use_awaitable);
    } catch (const std::exception& error) {
        spdlog::error("request_id={} handler escaped: {}", request.request_id, error.what());
    }
    co_return Response::problem(ApiError::internal(), request.path);
}

asio::awaitable<bool> Server::write_response(Session& session, Response response,
                                             const Request& request, unsigned version,
                                             bool keep_alive, bool is_head) const {
    const std::string head = response_head(response, version, request.request_id, keep_alive);
    co_return co_await send_response(
        session.stream, head, is_head ? std::string_view() : response.body, options_.body_timeout);
}

asio::awaitable<void> Server::reject_and_close(Session& session, const ApiError& error,
                                               const std::string& request_id) const {
    const Response response = Response::problem(error, "");
    co_await send_response(session.stream, response_head(response, 11, request_id, false),
                           response.body, options_.header_timeout);
    boost::system::error_code ec;
    session.stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    spdlog::info("request_id={} remote={} - - status={} (rejected before routing)", request_id,
                 session.remote, error.status());
}

}  // namespace flaskcart::http
