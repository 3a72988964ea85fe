#include "http/client_address.hpp"

#include <stdexcept>

namespace flaskcart::http {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// Calls `visit` on each trimmed entry of a comma-separated list, right to left, until it
// returns false.
template <typename Visit>
void for_each_entry_from_right(std::string_view list, Visit&& visit) {
    std::size_t end = list.size();
    for (;;) {
        const std::size_t comma = list.rfind(',', end == 0 ? 0 : end - 1);
        const bool is_first = comma == std::string_view::npos || end == 0;
        const std::size_t start = is_first ? 0 : comma + 1;
        if (!visit(trim(list.substr(start, end - start)))) return;
        if (is_first) return;
        end = comma;
    }
}

}  // namespace

std::optional<boost::asio::ip::address> parse_ip_address(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    if (text.empty() || text.size() > 64) return std::nullopt;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return boost::asio::ip::address(
            boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()));
    }
    return address;
}

TrustedProxies TrustedProxies::parse(std::string_view list) {
    TrustedProxies proxies;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string_view::npos) comma = list.size();
        const std::string entry(trim(list.substr(start, comma - start)));
        start = comma + 1;
        if (entry.empty()) continue;
        boost::system::error_code ec;
        if (entry.find('/') == std::string::npos) {
            const auto address = parse_ip_address(entry);
            if (!address) throw std::invalid_argument("not an IP address or network: " + entry);
            if (address->is_v4()) {
                proxies.v4_.emplace_back(address->to_v4(), 32);
            } else {
                proxies.v6_.emplace_back(address->to_v6(), 128);
            }
            continue;
        }
        if (entry.find(':') == std::string::npos) {
            const auto network = boost::asio::ip::make_network_v4(entry, ec);
            if (ec) throw std::invalid_argument("not an IP address or network: " + entry);
            proxies.v4_.push_back(network.canonical());
        } else {
            const auto network = boost::asio::ip::make_network_v6(entry, ec);
            if (ec) throw std::invalid_argument("not an IP address or network: " + entry);
            proxies.v6_.push_back(network.canonical());
        }
    }
    return proxies;
}

bool TrustedProxies::contains(const boost::asio::ip::address& address) const {
    if (address.is_v4()) {
        const boost::asio::ip::network_v4 host(address.to_v4(), 32);
        for (const auto& network : v4_) {
            if (host == network || host.is_subnet_of(network)) return true;
        }
        return false;
    }
    const boost::asio::ip::network_v6 host(address.to_v6(), 128);
    for (const auto& network : v6_) {
        if (host == network || host.is_subnet_of(network)) return true;
    }
    return false;
}

std::string TrustedProxies::client_address(std::string_view peer,
                                           std::optional<std::string_view> forwarded_for) const {
    if (empty()) return std::string(peer);
    const auto peer_address = parse_ip_address(peer);
    if (!peer_address || !contains(*peer_address)) return std::string(peer);
    std::string client = peer_address->to_string();
    if (!forwarded_for) return client;
    for_each_entry_from_right(*forwarded_for, [&](std::string_view entry) {
        const auto hop = parse_ip_address(entry);
        if (!hop) return false;
        client = hop->to_string();
        return contains(*hop);
    });
    return client;
}

}  // namespace flaskcart::http
