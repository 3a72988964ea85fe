#pragma once
// HTTP/1.1 server on Boost.Beast. Sessions run as coroutines on one network io_context thread;
// every handler runs on the bounded worker pool, so the network thread never waits on the
// database. Not thread-safe: call start() and shutdown() from the io_context's thread (or
// before it runs).

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <functional>
#include <set>

#include "http/message.hpp"
#include "utils/metrics.hpp"

namespace flaskcart::http {

struct ServerOptions {
    // The largest body any route accepts; body_limit_for() may lower it per request target.
    std::size_t max_body_bytes = 1024 * 1024;
    std::function<std::size_t(std::string_view target)> body_limit_for;
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};
    // Requests in flight (running or queued on the pool) before new ones get 503 at once.
    std::size_t max_in_flight = 64;
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
    // Stops accepting and closes idle keep-alive connections; requests being read or handled
    // finish and their connections close after the response.
    void shutdown();

  private:
    boost::asio::awaitable<void> accept_connections();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

    boost::asio::io_context& io_;
    boost::asio::thread_pool& workers_;
    ServerOptions options_;
    RequestHandler handler_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::set<boost::beast::tcp_stream*> idle_streams_;
    std::atomic<std::size_t> in_flight_{0};
    bool stopping_ = false;
};

}  // namespace flaskcart::http
