#pragma once
// Who the client is, for per-address limits (failed logins, registrations). By default the TCP
// peer. Behind reverse proxies every client shares the proxy's address, so the operator may name
// the proxies (--trusted-proxies); a request from one of them is keyed on the address it
// forwards in X-Forwarded-For instead.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flaskcart::http {

// A set of addresses and networks ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"). Immutable
// after parsing, so safe to share between threads.
class TrustedProxies {
  public:
    TrustedProxies() = default;  // trusts no one: the peer address is the client
    // Comma-separated entries; blanks around entries are ignored and an empty list trusts no
    // one. Throws std::invalid_argument naming the first entry that is not an address or network.
    static TrustedProxies parse(std::string_view list);

    bool empty() const noexcept { return v4_.empty() && v6_.empty(); }
    bool contains(const boost::asio::ip::address& address) const;

    // The client address to key limits on. When `peer` is not a trusted proxy: `peer`, as given.
    // Otherwise X-Forwarded-For is read from right to left, skipping trusted proxies, and the
    // first address that is not one is the client — the rightmost untrusted hop, the one a
    // trusted proxy itself saw connect (everything left of it is whatever the client claimed).
    // When every hop is trusted, or an entry is not an IP address, the last trusted hop reached
    // is the client: a broken chain never lets a client pick its own key.
    std::string client_address(std::string_view peer,
                               std::optional<std::string_view> forwarded_for) const;

  private:
    std::vector<boost::asio::ip::network_v4> v4_;
    std::vector<boost::asio::ip::network_v6> v6_;
};

// An IPv4 or IPv6 address, optionally in [brackets]; an IPv4-mapped IPv6 address is returned as
// IPv4, so either spelling of a client is one key. std::nullopt for anything else.
std::optional<boost::asio::ip::address> parse_ip_address(std::string_view text);

}  // namespace flaskcart::http
