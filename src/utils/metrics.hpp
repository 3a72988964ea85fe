#pragma once
// What requests cost, in Prometheus text exposition (GET /metrics): requests and latency by
// route template and status, requests in flight and queued for the worker pool, database
// commands by route and command, database errors by kind, and whatever collectors add (the
// catalog's size and age). Thread-safe. Route labels are templates ("/products/{id}"), never
// raw paths, so the number of series stays bounded whatever clients send.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flaskcart::metrics {

// Upper bounds (seconds) of the latency histogram buckets; +Inf is implicit.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

class Registry {
  public:
    // `route` is "METHOD /template" (http::Request::route).
    void observe_request(std::string_view route, int status, double seconds);
    void count_db_command(std::string_view route, std::string_view command);
    void count_db_error(std::string_view kind);
    // Adds lines of exposition text at each render (e.g. gauges read from another component).
    // The collector must outlive the registry's renders.
    void add_collector(std::function<void(std::string& out)> collector);
    std::string render() const;

    std::atomic<std::int64_t> requests_in_flight{0};
    std::atomic<std::int64_t> requests_queued{0};  // waiting for a worker thread

  private:
    struct RequestSeries {
        std::uint64_t count = 0;
        double seconds_sum = 0;
        std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};
    };
    // The request and database series, in exposition text; the caller holds mutex_.
    void render_requests(std::string& out) const;
    void render_database(std::string& out) const;

    // Orders ("GET /x", status) keys and finds them by a string_view route, so counting a
    // request allocates nothing once its series exists.
    struct RouteStatusLess {
        using is_transparent = void;
        template <typename Left, typename Right>
        bool operator()(const Left& left, const Right& right) const {
            return std::pair<std::string_view, int>(left.first, left.second) <
                   std::pair<std::string_view, int>(right.first, right.second);
        }
    };

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, RequestSeries, RouteStatusLess> requests_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> db_commands_;  // (route, cmd)
    std::map<std::string, std::uint64_t> db_errors_;
    std::vector<std::function<void(std::string&)>> collectors_;
};

// The registry the service reports to (the database driver's command monitor and the server).
Registry& process_registry();

// The request running on this thread: its route template and the database commands it has
// issued so far. Opened by the router around a handler; commands issued on a thread with no
// open scope (maintenance, catalog sync) are attributed to route "background".
class RequestScope {
  public:
    explicit RequestScope(std::string route);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;
    int db_commands() const noexcept { return db_commands_; }

  private:
    friend void note_db_command(std::string_view command);
    std::string route_;
    int db_commands_ = 0;
    RequestScope* outer_;
};

// Called by the driver's command-started callback, on the thread that issues the command.
void note_db_command(std::string_view command);
// Database commands this thread has issued in total (tests and budgets read differences).
std::int64_t thread_db_commands() noexcept;

// Escapes a label value for the text exposition format (\\, \", \n).
std::string escape_label(std::string_view value);

}  // namespace flaskcart::metrics
