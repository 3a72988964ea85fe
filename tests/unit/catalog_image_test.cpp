// Image type sniffing, validators, category name keys and demo data: pure logic.
#include <gtest/gtest.h>

#include <set>

#include "models/category_model.hpp"
#include "models/image_model.hpp"
#include "services/catalog_seed.hpp"

namespace flaskcart::models {
namespace {

using namespace std::string_literals;

TEST(ImageType, DecidedBySignatureOnly) {
    EXPECT_EQ(detect_image_type("\xFF\xD8\xFF\xE0rest"s), "image/jpeg");
    EXPECT_EQ(detect_image_type("\x89PNG\r\n\x1A\n\0\0\0\rIHDR"s), "image/png");
    EXPECT_EQ(detect_image_type("RIFF\x10\0\0\0WEBPVP8 "s), "image/webp");
    EXPECT_FALSE(detect_image_type(""));
    EXPECT_FALSE(detect_image_type("\xFF\xD8"s));                // truncated JPEG marker
    EXPECT_FALSE(detect_image_type("\x89PNG\r\n"s));             // truncated PNG signature
    EXPECT_FALSE(detect_image_type("RIFF\x10\0\0\0WAVEfmt "s));  // RIFF, but audio
    EXPECT_FALSE(detect_image_type("GIF89a"));
    EXPECT_FALSE(detect_image_type("<svg/>"));
    EXPECT_FALSE(detect_image_type("x\xFF\xD8\xFF"s));
}

TEST(ImageType, Sha256MatchesTheStandardVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ImageType, IfNoneMatchHandlesListsWildcardsAndWeakTags) {
    const std::string etag = "\"abc\"";
    EXPECT_TRUE(if_none_match_matches("\"abc\"", etag));
    EXPECT_TRUE(if_none_match_matches("*", etag));
    EXPECT_TRUE(if_none_match_matches("\"x\", \"abc\"", etag));
    EXPECT_TRUE(if_none_match_matches("\"x\",\"abc\"", etag));
    EXPECT_TRUE(if_none_match_matches("W/\"abc\"", etag));
    EXPECT_FALSE(if_none_match_matches("\"abcd\"", etag));
    EXPECT_FALSE(if_none_match_matches("abc", etag));
    EXPECT_FALSE(if_none_match_matches("", etag));
    EXPECT_FALSE(if_none_match_matches(",", etag));
}

TEST(CategoryNames, KeyIgnoresCaseAndSpacing) {
    EXPECT_EQ(category_name_key("  Home   &\tKitchen "), "home & kitchen");
    EXPECT_EQ(category_name_key("BOOKS"), category_name_key("books"));
    EXPECT_NE(category_name_key("Book s"), category_name_key("Books"));
}

TEST(DemoCatalog, NamesAreDeterministicUniqueAndValid) {
    std::set<std::string> names;
    const auto categories = services::demo_category_names();
    const std::set<std::string> known(categories.begin(), categories.end());
    for (int i = 0; i < 2000; ++i) {
        const auto product = services::demo_product(i);
        EXPECT_TRUE(names.insert(product.name).second) << product.name;
        EXPECT_EQ(product.name, services::demo_product(i).name);
        EXPECT_GT(product.price_cents, 0);
        EXPECT_GE(product.stock, 0);
        EXPECT_LE(product.name.size(), 200U);
        EXPECT_TRUE(known.count(product.category) == 1) << product.category;
    }
}

}  // namespace
}  // namespace flaskcart::models
