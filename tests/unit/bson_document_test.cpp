// The typed document builder and reader (utils/bson_document.hpp, db::BsonView): what each
// append writes (type and value, read back through libbson itself, not only through the reader),
// nesting, the filters, and the reader's answers for missing and mistyped fields.
#include "utils/bson_document.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace flaskcart::db {
namespace {

constexpr const char* kIdText = "5f1d7a3b9c0e4a2b8d6f0a11";
constexpr const char* kOtherIdText = "5f1d7a3b9c0e4a2b8d6f0a22";

bson_oid_t oid(const char* text) {
    return *parse_oid(text);
}

// Canonical extended JSON: types are explicit ($numberLong, $date, ...).
std::string canonical(const Bson& doc) {
    std::size_t length = 0;
    char* text = bson_as_canonical_extended_json(doc.get(), &length);
    std::string out(text, length);
    bson_free(text);
    return out;
}

bson_type_t type_of(const Bson& doc, const char* key) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc.get(), key)) return BSON_TYPE_EOD;
    return bson_iter_type(&it);
}

TEST(DocumentBuilder, AppendsEachTypeUnderItsBsonType) {
    const Bson doc = DocumentBuilder()
                         .append("s", std::string_view("text"))
                         .append("c", "literal")
                         .append("i32", 7)
                         .append("i64", std::int64_t{1} << 40)
                         .append("b", true)
                         .append("d", 2.5)
                         .append("oid", oid(kIdText))
                         .append("at", time_from_ms(1'700'000'000'123))
                         .append("bin", Binary{"\x01\x02"})
                         .build();
    EXPECT_EQ(type_of(doc, "s"), BSON_TYPE_UTF8);
    EXPECT_EQ(type_of(doc, "c"), BSON_TYPE_UTF8);
    EXPECT_EQ(type_of(doc, "i32"), BSON_TYPE_INT32);
    EXPECT_EQ(type_of(doc, "i64"), BSON_TYPE_INT64);
    EXPECT_EQ(type_of(doc, "b"), BSON_TYPE_BOOL);
    EXPECT_EQ(type_of(doc, "d"), BSON_TYPE_DOUBLE);
    EXPECT_EQ(type_of(doc, "oid"), BSON_TYPE_OID);
    EXPECT_EQ(type_of(doc, "at"), BSON_TYPE_DATE_TIME);
    EXPECT_EQ(type_of(doc, "bin"), BSON_TYPE_BINARY);
    EXPECT_EQ(canonical(doc),
              R"({ "s" : "text", "c" : "literal", "i32" : { "$numberInt" : "7" }, )"
              R"("i64" : { "$numberLong" : "1099511627776" }, "b" : true, )"
              R"("d" : { "$numberDouble" : "2.5" }, )"
              R"("oid" : { "$oid" : "5f1d7a3b9c0e4a2b8d6f0a11" }, )"
              R"("at" : { "$date" : { "$numberLong" : "1700000000123" } }, )"
              R"("bin" : { "$binary" : { "base64" : "AQI=", "subType" : "00" } } })");
}

TEST(DocumentBuilder, ReaderReadsBackWhatWasAppended) {
    const std::string bytes("\x89PNG\r\n\x1A\n\0tail", 13);
    const Bson doc = DocumentBuilder()
                         .append("s", std::string("with \0 nul", 10))
                         .append("n", std::int64_t{-42})
                         .append("small", 5)
                         .append("b", false)
                         .append("d", -0.125)
                         .append("oid", oid(kIdText))
                         .append("at", time_from_ms(-1500))
                         .append("bin", Binary{bytes})
                         .build();
    const BsonView view = doc.view();
    EXPECT_EQ(view.get_string("s"), std::string("with \0 nul", 10));
    EXPECT_EQ(view.get_int64("n"), -42);
    EXPECT_EQ(view.get_int64("small"), 5);  // int32 widens
    EXPECT_EQ(view.get_bool("b"), false);
    EXPECT_EQ(view.get_double("d"), -0.125);
    ASSERT_TRUE(view.get_oid("oid"));
    EXPECT_EQ(oid_to_string(*view.get_oid("oid")), kIdText);
    EXPECT_EQ(view.get_date_ms("at"), -1500);
    EXPECT_EQ(view.get_time("at"), time_from_ms(-1500));
    EXPECT_EQ(view.get_binary("bin"), std::string_view(bytes));
}

TEST(DocumentBuilder, EmptyBinaryAndEmptyStringAreKept) {
    const Bson doc = DocumentBuilder().append("bin", Binary{""}).append("s", "").build();
    EXPECT_EQ(doc.view().get_binary("bin"), std::string_view());
    EXPECT_EQ(doc.view().get_string("s"), "");
}

TEST(DocumentBuilder, NestsDocumentsAndArraysInPlace) {
    const std::vector<std::string> tags = {"a", "b"};
    const Bson doc =
        DocumentBuilder()
            .append_document(
                "$set",
                [&](DocumentBuilder& set) {
                    set.append("name", "x").append_array("tags", [&](ArrayBuilder& array) {
                        for (const auto& tag : tags) array.append(tag);
                    });
                })
            .append_array(
                "items",
                [](ArrayBuilder& items) {
                    items.append_document([](DocumentBuilder& item) { item.append("k", "p"); });
                    items.append(std::int64_t{3});
                    items.append_array([](ArrayBuilder& inner) { inner.append(true); });
                })
            .append("after", 1)
            .build();
    EXPECT_EQ(canonical(doc), R"({ "$set" : { "name" : "x", "tags" : [ "a", "b" ] }, )"
                              R"("items" : [ { "k" : "p" }, { "$numberLong" : "3" }, [ true ] ], )"
                              R"("after" : { "$numberInt" : "1" } })");
}

TEST(DocumentBuilder, EmbedsABuiltDocumentByCopy) {
    Bson inner = DocumentBuilder().append("$gt", std::int64_t{0}).build();
    const Bson doc = DocumentBuilder().append("stock", inner).build();
    inner = Bson();
    EXPECT_EQ(canonical(doc), R"({ "stock" : { "$gt" : { "$numberLong" : "0" } } })");
    const auto stock = doc.view().get_document("stock");
    ASSERT_TRUE(stock);
    EXPECT_EQ(stock->view().get_int64("$gt"), 0);
}

TEST(DocumentBuilder, AppendIfPresentSkipsEmptyOptionals) {
    const std::optional<std::string> name = "n";
    const std::optional<std::string> phone;
    const std::optional<std::int64_t> price = 1999;
    const Bson doc = DocumentBuilder()
                         .append_if_present("name", name)
                         .append_if_present("phone", phone)
                         .append_if_present("price_cents", price)
                         .build();
    EXPECT_EQ(canonical(doc), R"({ "name" : "n", "price_cents" : { "$numberLong" : "1999" } })");
}

TEST(DocumentBuilder, ASpentBuilderRefusesFurtherUse) {
    DocumentBuilder builder;
    builder.append("a", 1);
    const Bson doc = builder.build();
    EXPECT_EQ(doc.view().get_int64("a"), 1);
    EXPECT_THROW(builder.append("b", 2), std::logic_error);
    EXPECT_THROW(builder.build(), std::logic_error);
}

TEST(DocumentBuilder, AMovedBuilderKeepsItsDocument) {
    DocumentBuilder first;
    first.append("a", 1);
    DocumentBuilder second(std::move(first));
    second.append("b", 2);
    EXPECT_EQ(canonical(second.build()),
              R"({ "a" : { "$numberInt" : "1" }, "b" : { "$numberInt" : "2" } })");
}

TEST(DocumentBuilder, ContinuesAnExistingDocumentAndAppendsAnothersFields) {
    Bson condition = DocumentBuilder().append("role", "admin").append("n", 1).build();
    const Bson filter = DocumentBuilder(id_filter(oid(kIdText))).append_fields(condition).build();
    EXPECT_EQ(canonical(filter), R"({ "_id" : { "$oid" : "5f1d7a3b9c0e4a2b8d6f0a11" }, )"
                                 R"("role" : "admin", "n" : { "$numberInt" : "1" } })");
    const Bson limited = DocumentBuilder(std::move(condition)).append("limit", 1).build();
    EXPECT_EQ(
        canonical(limited),
        R"({ "role" : "admin", "n" : { "$numberInt" : "1" }, "limit" : { "$numberInt" : "1" } })");
}

TEST(DocumentBuilder, ANullCStringIsAnErrorNotACrash) {
    const char* missing = nullptr;
    EXPECT_THROW(DocumentBuilder().append("s", missing), std::invalid_argument);
}

TEST(ArrayBuilder, BuildsATopLevelArrayWithIndexKeys) {
    ArrayBuilder pipeline;
    EXPECT_TRUE(pipeline.empty());
    for (int i = 0; i < 12; ++i) pipeline.append(i);
    EXPECT_EQ(pipeline.size(), 12U);
    const Bson doc = pipeline.build();
    EXPECT_EQ(doc.view().get_int64("0"), 0);
    EXPECT_EQ(doc.view().get_int64("10"), 10);
    EXPECT_EQ(doc.view().get_int64("11"), 11);
    EXPECT_FALSE(doc.view().has("12"));
}

TEST(Filters, IdFilterByObjectIdAndByString) {
    EXPECT_EQ(canonical(id_filter(oid(kIdText))),
              R"({ "_id" : { "$oid" : "5f1d7a3b9c0e4a2b8d6f0a11" } })");
    EXPECT_EQ(canonical(id_filter(std::string_view("writer/3"))), R"({ "_id" : "writer/3" })");
}

TEST(Filters, InAndNotInArrays) {
    const std::vector<bson_oid_t> ids = {oid(kIdText), oid(kOtherIdText)};
    const Bson filter = DocumentBuilder().append("_id", in_array(ids)).build();
    EXPECT_EQ(canonical(filter),
              R"({ "_id" : { "$in" : [ { "$oid" : "5f1d7a3b9c0e4a2b8d6f0a11" }, )"
              R"({ "$oid" : "5f1d7a3b9c0e4a2b8d6f0a22" } ] } })");
    const std::vector<std::string> statuses = {"reserving", "failed"};
    EXPECT_EQ(canonical(not_in_array(statuses)), R"({ "$nin" : [ "reserving", "failed" ] })");
    const Bson empty(BCON_NEW("$in", "[", "]"));  // libbson's own rendering of an empty array
    EXPECT_EQ(canonical(in_array(std::vector<std::string>{})), canonical(empty));
}

TEST(BsonViewReader, MissingAndMistypedFieldsAreEmpty) {
    const Bson doc = DocumentBuilder()
                         .append("s", "text")
                         .append("n", 1)
                         .append("d", 1.5)
                         .append("sub", DocumentBuilder().append("x", 1).build())
                         .build();
    const BsonView view = doc.view();
    EXPECT_FALSE(view.get_string("missing"));
    EXPECT_FALSE(view.get_string("n"));
    EXPECT_FALSE(view.get_int64("s"));
    EXPECT_FALSE(view.get_int64("d"));  // a double is not silently truncated
    EXPECT_FALSE(view.get_double("n"));
    EXPECT_FALSE(view.get_bool("n"));
    EXPECT_FALSE(view.get_oid("s"));
    EXPECT_FALSE(view.get_date_ms("n"));
    EXPECT_FALSE(view.get_time("n"));
    EXPECT_FALSE(view.get_binary("s"));
    EXPECT_FALSE(view.get_binary("missing"));
    EXPECT_FALSE(view.get_document("s"));
    EXPECT_FALSE(view.get_document("missing"));
    EXPECT_TRUE(view.get_document("sub"));
}

TEST(TimePoints, NowIsWholeMillisecondsAndRoundTrips) {
    const TimePoint at = now();
    const Bson doc = DocumentBuilder().append("at", at).build();
    EXPECT_EQ(doc.view().get_time("at"), at);
    EXPECT_EQ(time_from_ms(123).time_since_epoch().count(), 123);
}

}  // namespace
}  // namespace flaskcart::db
