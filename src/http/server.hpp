#pragma once
// HTTP/1.1 server on Boost.Beast. Sessions run as coroutines on the network io_context, which
// may be run by several threads (one per core): each connection lives on its own strand. A
// request's handler runs on the bounded worker pool — so the network threads never wait on the
// database — unless runs_on_network_thread says it is cheap and database-free. Thread-safe:
// start() once, then shutdown() from any thread.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/cors.hpp"
#include "http/message.hpp"
#include "utils/metrics.hpp"

namespace flaskcart::http {

struct ServerOptions {
    // The largest body any route accepts; body_limit_for() may lower it per request target.
    std::size_t max_body_bytes = std::size_t{1024} * 1024;
    std::function<std::size_t(std::string_view target)> body_limit_for;
    std::size_t max_header_bytes = std::size_t{16} * 1024;
    // A new connection must send its first request's headers within this, and every request's
    // headers must arrive within it once the first byte has.
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    // A keep-alive connection may wait this long between requests.
    std::chrono::milliseconds idle_timeout{60'000};
    // Requests in flight (running or queued on the pool) before new ones get 503 at once.
    std::size_t max_in_flight = 64;
    // Open client connections before a new one gets 503 and is closed. start() lowers it to
    // what RLIMIT_NOFILE leaves after `reserved_file_descriptors` (database pool, logs).
    std::size_t max_connections = 10'000;
    std::size_t reserved_file_descriptors = 64;
    std::vector<std::string> cors_allowed_origins;
    // True when the request's handler is cheap and never touches the database; it then runs on
    // the network thread. Unset: every handler runs on the worker pool.
    std::function<bool(const Request&)> runs_on_network_thread;
    // Where requests are counted and timed; none when null.
    metrics::Registry* metrics = nullptr;
};

class Server {
  public:
    using RequestHandler = std::function<Response(Request&)>;

    Server(boost::asio::io_context& io, boost::asio::thread_pool& workers, ServerOptions options,
           RequestHandler handler);

    // Binds and starts accepting; throws boost::system::system_error when it cannot bind.
    void start(const boost::asio::ip::tcp::endpoint& endpoint);
    unsigned short port() const;
    // The connection cap in force (after start(): lowered to the file-descriptor limit).
    std::size_t max_connections() const noexcept { return options_.max_connections; }
    // Stops accepting and closes idle connections; requests being read or handled finish and
    // their connections close after the response.
    void shutdown();

  private:
    struct Session;
    struct ReadResult;
    class SessionRegistration;

    boost::asio::awaitable<void> accept_connections();
    boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket);
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
    // The steps of one exchange on a session.
    boost::asio::awaitable<bool> wait_for_request(Session& session, bool is_first);
    boost::asio::awaitable<ReadResult> read_request(Session& session, bool is_first);
    boost::asio::awaitable<Response> run_request(Request& request);
    boost::asio::awaitable<bool> write_response(Session& session, Response response,
                                                const Request& request, unsigned version,
                                                bool keep_alive, bool is_head) const;
    boost::asio::awaitable<void> reject_and_close(Session& session, const ApiError& error,
                                                  const std::string& request_id) const;

    void lower_connection_cap_to_descriptor_limit();

    boost::asio::io_context& io_;
    boost::asio::thread_pool& workers_;
    ServerOptions options_;
    CorsPolicy cors_;
    RequestHandler handler_;
    boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
    boost::asio::ip::tcp::acceptor acceptor_;

    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> in_flight_{0};
    std::atomic<std::size_t> open_connections_{0};
    std::atomic<std::size_t> refusals_in_progress_{0};
    std::atomic<std::uint64_t> next_session_id_{0};
    // Open sessions; shutdown() cancels those waiting for a request (on their own strands).
    std::mutex sessions_mutex_;
    std::map<std::uint64_t, Session*> sessions_;
};

}  // namespace flaskcart::http
