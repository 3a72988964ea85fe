// Driver-error classification (utils/db.cpp's one table), with hand-built bson_error_t values.
#include <gtest/gtest.h>

#include <cstring>

#include "utils/db.hpp"

namespace flaskcart::db {
namespace {

bson_error_t driver_error(std::uint32_t domain, std::uint32_t code) {
    bson_error_t error;
    std::memset(&error, 0, sizeof error);
    error.domain = domain;
    error.code = code;
    std::strcpy(error.message, "hand-built");
    return error;
}

DbErrorKind kind_of(std::uint32_t domain, std::uint32_t code, const bson_t* reply = nullptr) {
    return classify_error(driver_error(domain, code), reply);
}

TEST(DbErrorClassification, UnreachableServersAreUnavailable) {
    EXPECT_EQ(kind_of(MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE),
              DbErrorKind::kUnavailable);
    EXPECT_EQ(kind_of(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_CONNECT), DbErrorKind::kUnavailable);
    EXPECT_EQ(kind_of(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_NAME_RESOLUTION),
              DbErrorKind::kUnavailable);
    EXPECT_EQ(kind_of(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_NOT_ESTABLISHED),
              DbErrorKind::kUnavailable);
    EXPECT_EQ(kind_of(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET), DbErrorKind::kTimeout);
}

TEST(DbErrorClassification, TransientServerCodesAreUnavailableInEveryServerDomain) {
    const std::uint32_t unavailable_codes[] = {6,     7,     91,    134,   189,   9001,
                                               10058, 10107, 11600, 11602, 13435, 13436};
    for (std::uint32_t domain : {MONGOC_ERROR_SERVER, MONGOC_ERROR_QUERY, MONGOC_ERROR_COLLECTION,
                                 MONGOC_ERROR_WRITE_CONCERN}) {
        for (std::uint32_t code : unavailable_codes) {
            EXPECT_EQ(kind_of(domain, code), DbErrorKind::kUnavailable)
                << "domain " << domain << " code " << code;
        }
        for (std::uint32_t code : {50U, 89U, 262U}) {
            EXPECT_EQ(kind_of(domain, code), DbErrorKind::kTimeout)
                << "domain " << domain << " code " << code;
        }
        EXPECT_EQ(kind_of(domain, 11000), DbErrorKind::kDuplicateKey) << domain;
    }
    // The ones the review found answered with 500.
    for (std::uint32_t code : {10107U, 189U, 91U, 11600U, 6U}) {
        const DbError error(kind_of(MONGOC_ERROR_SERVER, code), MONGOC_ERROR_SERVER, code, "x");
        EXPECT_TRUE(error.is_unavailable()) << code;
    }
    EXPECT_TRUE(
        DbError(kind_of(MONGOC_ERROR_SERVER, 89), MONGOC_ERROR_SERVER, 89, "x").is_unavailable());
}

TEST(DbErrorClassification, BadCredentialsAndClientDefectsAreNotRetryable) {
    for (auto [domain, code] : {std::pair<std::uint32_t, std::uint32_t>{
                                    MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_AUTHENTICATE},
                                {MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_TOO_BIG},
                                {MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_NO_ACCEPTABLE_PEER},
                                {MONGOC_ERROR_SASL, 1},
                                {MONGOC_ERROR_SCRAM, MONGOC_ERROR_SCRAM_PROTOCOL_ERROR},
                                {MONGOC_ERROR_BSON, MONGOC_ERROR_BSON_INVALID},
                                {MONGOC_ERROR_COMMAND, MONGOC_ERROR_COMMAND_INVALID_ARG},
                                {MONGOC_ERROR_PROTOCOL, MONGOC_ERROR_PROTOCOL_INVALID_REPLY},
                                {MONGOC_ERROR_SERVER, 18},  // AuthenticationFailed
                                {MONGOC_ERROR_SERVER, 13},  // Unauthorized
                                {MONGOC_ERROR_SERVER, 1}}) {
        const DbErrorKind kind = kind_of(domain, code);
        EXPECT_EQ(kind, DbErrorKind::kOther) << "domain " << domain << " code " << code;
        EXPECT_FALSE(DbError(kind, domain, code, "x").is_unavailable());
    }
}

TEST(DbErrorClassification, CodesMeanSomethingOnlyInTheirOwnDomain) {
    // Client domain code 9 is CLIENT_TOO_SMALL, not the server's FailedToParse; stream code 6
    // is NOT_ESTABLISHED, not HostUnreachable (both unavailable, for different reasons).
    EXPECT_EQ(kind_of(MONGOC_ERROR_CLIENT, 9), DbErrorKind::kOther);
    EXPECT_EQ(kind_of(MONGOC_ERROR_SERVER, 9), DbErrorKind::kBadQuery);
    EXPECT_EQ(kind_of(MONGOC_ERROR_CLIENT, 11000), DbErrorKind::kOther);
    EXPECT_EQ(kind_of(MONGOC_ERROR_SERVER, 2), DbErrorKind::kBadQuery);
    EXPECT_EQ(kind_of(MONGOC_ERROR_SERVER, 238), DbErrorKind::kBadQuery);
}

TEST(DbErrorClassification, RetryableWriteErrorLabelMarksAnyCodeTransient) {
    Bson labelled(BCON_NEW("ok", BCON_INT32(0), "code", BCON_INT32(64), "errorLabels", "[",
                           BCON_UTF8("RetryableWriteError"), "]"));
    Bson unlabelled(BCON_NEW("ok", BCON_INT32(0), "code", BCON_INT32(64)));
    EXPECT_EQ(kind_of(MONGOC_ERROR_WRITE_CONCERN, 64, labelled.get()), DbErrorKind::kUnavailable);
    EXPECT_EQ(kind_of(MONGOC_ERROR_WRITE_CONCERN, 64, unlabelled.get()), DbErrorKind::kOther);
    EXPECT_EQ(kind_of(MONGOC_ERROR_WRITE_CONCERN, 64), DbErrorKind::kOther);
    // A label never turns a duplicate key into a retry.
    EXPECT_EQ(kind_of(MONGOC_ERROR_SERVER, 11000, labelled.get()), DbErrorKind::kDuplicateKey);
}

}  // namespace
}  // namespace flaskcart::db
