// Object ids as routes see them (utils/object_id.hpp): exactly 24 hex digits, nothing else.
#include "utils/object_id.hpp"

#include <gtest/gtest.h>

#include <string>

#include "utils/db.hpp"

namespace flaskcart::db {
namespace {

TEST(ObjectId, ParsesTwentyFourHexDigitsInEitherCase) {
    const auto lower = ObjectId::parse("507f1f77bcf86cd799439011");
    ASSERT_TRUE(lower);
    EXPECT_EQ(lower->to_string(), "507f1f77bcf86cd799439011");
    EXPECT_EQ(lower->bytes()[0], 0x50);
    EXPECT_EQ(lower->bytes()[11], 0x11);
    const auto upper = ObjectId::parse("507F1F77BCF86CD799439011");
    ASSERT_TRUE(upper);
    EXPECT_EQ(*upper, *lower);
    EXPECT_EQ(upper->to_string(), "507f1f77bcf86cd799439011");
}

TEST(ObjectId, RefusesEverythingElse) {
    using namespace std::string_literals;
    for (const std::string& text :
         {""s, "507f1f77bcf86cd79943901"s, "507f1f77bcf86cd7994390111"s, "507f1f77bcf86cd79943901g"s,
          "507f1f77bcf86cd79943901 "s, " 507f1f77bcf86cd79943901"s, "{\"$gt\": \"\"}"s,
          "507f1f77bcf86cd7994390/1"s, "507f1f77bcf86cd79943901\xC3\xA9"s}) {
        EXPECT_FALSE(ObjectId::parse(text)) << text;
        EXPECT_FALSE(parse_oid(text)) << text;
    }
}

// bson_oid_is_valid accepts 25 bytes when the last is NUL; a string_view may hold exactly that.
TEST(ObjectId, RefusesATrailingNul) {
    const std::string with_nul("507f1f77bcf86cd799439011\0", 25);
    ASSERT_EQ(with_nul.size(), 25U);
    EXPECT_FALSE(ObjectId::parse(with_nul));
    EXPECT_FALSE(parse_oid(with_nul));
}

TEST(ObjectId, AgreesWithTheDriverForm) {
    const std::string text = "65a1b2c3d4e5f60718293a4b";
    const auto id = ObjectId::parse(text);
    const auto oid = parse_oid(text);
    ASSERT_TRUE(id && oid);
    EXPECT_EQ(oid_to_string(*oid), id->to_string());
    for (std::size_t i = 0; i < ObjectId::kBytes; ++i) EXPECT_EQ(id->bytes()[i], oid->bytes[i]);
}

}  // namespace
}  // namespace flaskcart::db
