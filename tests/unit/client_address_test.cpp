// Which address the per-address limits key on, with and without trusted proxies.
#include "http/client_address.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace flaskcart::http {
namespace {

TEST(TrustedProxies, OffByDefaultThePeerIsTheClientWhateverItForwards) {
    const TrustedProxies none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.client_address("127.0.0.1", "203.0.113.9"), "127.0.0.1");
    EXPECT_EQ(TrustedProxies::parse("").client_address("10.0.0.1", "1.2.3.4"), "10.0.0.1");
    EXPECT_EQ(TrustedProxies::parse(" , ").client_address("10.0.0.1", "1.2.3.4"), "10.0.0.1");
}

TEST(TrustedProxies, AnUntrustedPeerCannotChooseItsKey) {
    const auto proxies = TrustedProxies::parse("10.0.0.0/8");
    EXPECT_EQ(proxies.client_address("192.0.2.7", "203.0.113.9"), "192.0.2.7");
}

TEST(TrustedProxies, TheRightmostUntrustedHopIsTheClient) {
    const auto proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8");
    // The client claimed 1.1.1.1; the proxy appended the address it saw.
    EXPECT_EQ(proxies.client_address("127.0.0.1", "1.1.1.1, 203.0.113.9"), "203.0.113.9");
    // Two proxies in a chain: both are skipped.
    EXPECT_EQ(proxies.client_address("127.0.0.1", "1.1.1.1, 203.0.113.9, 10.1.2.3"), "203.0.113.9");
    EXPECT_EQ(proxies.client_address("10.9.9.9", "198.51.100.4"), "198.51.100.4");
    // Blanks and tabs around entries do not matter.
    EXPECT_EQ(proxies.client_address("127.0.0.1", "  198.51.100.4\t"), "198.51.100.4");
}

TEST(TrustedProxies, ABrokenChainFallsBackToTheLastTrustedHop) {
    const auto proxies = TrustedProxies::parse("127.0.0.1,10.0.0.0/8");
    EXPECT_EQ(proxies.client_address("127.0.0.1", std::nullopt), "127.0.0.1");
    EXPECT_EQ(proxies.client_address("127.0.0.1", ""), "127.0.0.1");
    EXPECT_EQ(proxies.client_address("127.0.0.1", "10.0.0.5"), "10.0.0.5");
    EXPECT_EQ(proxies.client_address("127.0.0.1", "203.0.113.9, not-an-ip"), "127.0.0.1");
    EXPECT_EQ(proxies.client_address("127.0.0.1", "203.0.113.9, unknown, 10.0.0.2"), "10.0.0.2");
    EXPECT_EQ(proxies.client_address("127.0.0.1", "203.0.113.9,"), "127.0.0.1");
}

TEST(TrustedProxies, Ipv6AndMappedAddresses) {
    const auto proxies = TrustedProxies::parse("::1, fd00::/8");
    EXPECT_EQ(proxies.client_address("::1", "2001:db8::7"), "2001:db8::7");
    EXPECT_EQ(proxies.client_address("fd12::1", "[2001:db8::8]"), "2001:db8::8");
    // An IPv4 client reached over an IPv6 socket is one key with its plain IPv4 spelling.
    EXPECT_EQ(proxies.client_address("::1", "::ffff:203.0.113.9"), "203.0.113.9");
    EXPECT_EQ(proxies.client_address("2001:db8::1", "198.51.100.4"), "2001:db8::1");
    const auto mapped_peer = TrustedProxies::parse("127.0.0.1");
    EXPECT_EQ(mapped_peer.client_address("::ffff:127.0.0.1", "198.51.100.4"), "198.51.100.4");
}

TEST(TrustedProxies, BadEntriesAreRefusedByName) {
    for (const char* bad : {"localhost", "10.0.0.0/33", "10.0.0.0/x", "::1/129", "1.2.3"}) {
        try {
            (void)TrustedProxies::parse(std::string("127.0.0.1,") + bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const std::invalid_argument& error) {
            EXPECT_NE(std::string(error.what()).find(bad), std::string::npos) << error.what();
        }
    }
}

}  // namespace
}  // namespace flaskcart::http
