#pragma once
// Cross-origin access for browsers (the Fetch standard's CORS protocol), off unless origins are
// allowed. Immutable after construction; thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace flaskcart::http {

class CorsPolicy {
  public:
    // `allowed_origins`: exact origins such as "https://shop.example.com" (compared without
    // regard to case); empty turns CORS off: no Access-Control-* header is ever sent.
    explicit CorsPolicy(std::vector<std::string> allowed_origins = {});

    bool is_enabled() const noexcept { return !allowed_origins_.empty(); }
    // The 204 answer to a preflight (OPTIONS with Origin and Access-Control-Request-Method) from
    // an allowed origin; std::nullopt for anything else, which is then routed as usual (an
    // OPTIONS from another origin gets the 405 of a route without OPTIONS, and no CORS header).
    std::optional<Response> answer_preflight(const Request& request) const;
    // On a response to an allowed origin: Access-Control-Allow-Origin and the headers a script
    // may read. Whenever CORS is on: `Vary: Origin`, so a shared cache keeps answers apart.
    void add_headers(const Request& request, Response& response) const;

  private:
    bool is_allowed(const Request& request) const;

    std::vector<std::string> allowed_origins_;
};

}  // namespace flaskcart::http
