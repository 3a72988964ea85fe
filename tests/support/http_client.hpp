#pragma once
// A small blocking HTTP/1.1 client for API tests (Beast, one connection per request).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flaskcart::testing {

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-cased names
    std::string body;

    boost::json::value json() const;  // throws on a non-JSON body
    std::string header(const std::string& lower_name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
  public:
    explicit HttpClient(int port) : port_(port) {}

    HttpResponse request(const std::string& method, const std::string& target,
                         const std::string& body = {}, const Headers& headers = {},
                         const std::string& content_type = "application/json") const;
    HttpResponse get(const std::string& target, const std::string& token = {}) const;
    HttpResponse post(const std::string& target, const boost::json::value& body,
                      const std::string& token = {}, const Headers& headers = {}) const;
    HttpResponse put(const std::string& target, const boost::json::value& body,
                     const std::string& token = {}) const;
    HttpResponse del(const std::string& target, const std::string& token = {}) const;

    // Sends raw bytes and returns whatever the server answers (for malformed-input tests).
    std::string raw(const std::string& bytes) const;

  private:
    int port_;
};

Headers bearer(const std::string& token);

// A plain TCP connection to the service, for tests that send a request in pieces or malformed.
class RawConnection {
  public:
    explicit RawConnection(int port);
    void send(const std::string& bytes);
    // What has arrived so far (waits for at least one byte, or the end).
    std::string read_some();
    // Everything until the server closes the connection.
    std::string read_until_closed();
    // The same, or std::nullopt when the server has not closed it within `timeout`.
    std::optional<std::string> read_until_closed_within(std::chrono::milliseconds timeout);

  private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
};

}  // namespace flaskcart::testing
