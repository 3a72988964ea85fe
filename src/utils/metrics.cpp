#include "utils/metrics.hpp"

#include <cstdio>

namespace flaskcart::metrics {

namespace {

thread_local RequestScope* current_scope = nullptr;
thread_local std::int64_t commands_on_this_thread = 0;

void append_number(std::string& out, double value) {
    char buffer[64];
    const int n = std::snprintf(buffer, sizeof buffer, "%.9g", value);
    out.append(buffer, static_cast<std::size_t>(n));
}

}  // namespace

std::string escape_label(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void Registry::observe_request(std::string_view route, int status, double seconds) {
    std::lock_guard lock(mutex_);
    auto it = requests_.find(std::pair<std::string_view, int>(route, status));
    if (it == requests_.end()) {
        it = requests_.emplace(std::pair<std::string, int>(route, status), RequestSeries{}).first;
    }
    RequestSeries& series = it->second;
    ++series.count;
    series.seconds_sum += seconds;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        if (seconds <= kLatencyBuckets[i]) {
            ++series.buckets[i];
            break;
        }
    }
}

void Registry::count_db_command(std::string_view route, std::string_view command) {
    std::lock_guard lock(mutex_);
    ++db_commands_[{std::string(route), std::string(command)}];
}

void Registry::count_db_error(std::string_view kind) {
    std::lock_guard lock(mutex_);
    ++db_errors_[std::string(kind)];
}

void Registry::add_collector(std::function<void(std::string&)> collector) {
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(collector));
}

void Registry::render_requests(std::string& out) const {
    out +=
        "# HELP flaskcart_http_requests_total HTTP requests answered, by route template and "
        "status.\n# TYPE flaskcart_http_requests_total counter\n";
    for (const auto& [key, series] : requests_) {
        const std::string labels = "route=\"" + escape_label(key.first) + "\",status=\"" +
                                   std::to_string(key.second) + "\"";
        out +=
            "flaskcart_http_requests_total{" + labels + "} " + std::to_string(series.count) + "\n";
    }
    out +=
        "# HELP flaskcart_http_request_duration_seconds Time from the request's headers to "
        "its response, by route template and status.\n"
        "# TYPE flaskcart_http_request_duration_seconds histogram\n";
    for (const auto& [key, series] : requests_) {
        const std::string labels = "route=\"" + escape_label(key.first) + "\",status=\"" +
                                   std::to_string(key.second) + "\"";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
            cumulative += series.buckets[i];
            out += "flaskcart_http_request_duration_seconds_bucket{" + labels + ",le=\"";
            append_number(out, kLatencyBuckets[i]);
            out += "\"} " + std::to_string(cumulative) + "\n";
        }
        out += "flaskcart_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
               std::to_string(series.count) + "\n";
        out += "flaskcart_http_request_duration_seconds_sum{" + labels + "} ";
        append_number(out, series.seconds_sum);
        out += "\nflaskcart_http_request_duration_seconds_count{" + labels + "} " +
               std::to_string(series.count) + "\n";
    }
}

void Registry::render_database(std::string& out) const {
    out +=
        "# HELP flaskcart_db_commands_total Database commands issued, by route template (or "
        "background) and command.\n# TYPE flaskcart_db_commands_total counter\n";
    for (const auto& [key, count] : db_commands_) {
        out += "flaskcart_db_commands_total{route=\"" + escape_label(key.first) + "\",command=\"" +
               escape_label(key.second) + "\"} " + std::to_string(count) + "\n";
    }
    out +=
        "# HELP flaskcart_db_errors_total Database failures, by kind.\n"
        "# TYPE flaskcart_db_errors_total counter\n";
    for (const auto& [kind, count] : db_errors_) {
        out += "flaskcart_db_errors_total{kind=\"" + escape_label(kind) + "\"} " +
               std::to_string(count) + "\n";
    }
}

std::string Registry::render() const {
    std::string out;
    std::vector<std::function<void(std::string&)>> collectors;
    {
        std::lock_guard lock(mutex_);
        render_requests(out);
        render_database(out);
        collectors = collectors_;
    }
    out +=
        "# HELP flaskcart_http_requests_in_flight Requests being handled or waiting for a "
        "worker.\n# TYPE flaskcart_http_requests_in_flight "
        "gauge\nflaskcart_http_requests_in_flight " +
        std::to_string(requests_in_flight.load()) + "\n";
    out +=
        "# HELP flaskcart_worker_queue_depth Requests waiting for a worker thread.\n"
        "# TYPE flaskcart_worker_queue_depth gauge\nflaskcart_worker_queue_depth " +
        std::to_string(requests_queued.load()) + "\n";
    for (const auto& collector : collectors) collector(out);
    return out;
}

Registry& process_registry() {
    static Registry registry;
    return registry;
}

RequestScope::RequestScope(std::string route) : route_(std::move(route)), outer_(current_scope) {
    current_scope = this;
}

RequestScope::~RequestScope() {
    current_scope = outer_;
}

void note_db_command(std::string_view command) {
    ++commands_on_this_thread;
    if (current_scope != nullptr) {
        ++current_scope->db_commands_;
        process_registry().count_db_command(current_scope->route_, command);
    } else {
        process_registry().count_db_command("background", command);
    }
}

std::int64_t thread_db_commands() noexcept {
    return commands_on_this_thread;
}

}  // namespace flaskcart::metrics
