// ISO-8601 UTC timestamps from epoch milliseconds, on both sides of 1970.
#include <gtest/gtest.h>

#include "utils/time.hpp"

namespace flaskcart::time_format {
namespace {

TEST(Iso8601, FormatsMillisecondsSinceTheEpoch) {
    EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(1), "1970-01-01T00:00:00.001Z");
    EXPECT_EQ(iso8601_utc(999), "1970-01-01T00:00:00.999Z");
    EXPECT_EQ(iso8601_utc(1700000000123), "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(iso8601_utc(951782400000), "2000-02-29T00:00:00.000Z");  // a leap day
    EXPECT_EQ(iso8601_utc(253402300799999), "9999-12-31T23:59:59.999Z");
}

// Before 1970 the milliseconds are negative: the instant is floored, so the fraction stays in
// 000..999 and the second, minute and day are the ones before the epoch.
TEST(Iso8601, FormatsInstantsBefore1970) {
    EXPECT_EQ(iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(iso8601_utc(-1000), "1969-12-31T23:59:59.000Z");
    EXPECT_EQ(iso8601_utc(-1001), "1969-12-31T23:59:58.999Z");
    EXPECT_EQ(iso8601_utc(-86400000), "1969-12-31T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(-86400001), "1969-12-30T23:59:59.999Z");
    EXPECT_EQ(iso8601_utc(-14182940000), "1969-07-20T20:17:40.000Z");  // the Moon landing
    EXPECT_EQ(iso8601_utc(-62135596800000), "0001-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace flaskcart::time_format
