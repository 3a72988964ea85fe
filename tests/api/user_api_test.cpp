// Module 1 through the real binary: registration, login, tokens, profile, admin.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstring>
#include <future>
#include <limits>
#include <thread>

#include "models/change_model.hpp"
#include "support/api_helpers.hpp"
#include "support/concurrency.hpp"
#include "support/database.hpp"
#include "support/http_client.hpp"
#include "support/service.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::testing {
namespace {

constexpr const char* kSecret = "test-secret-that-is-at-least-32-bytes-long!";

class UserApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        service_holder_ = std::make_unique<Service>(
            ServiceOptions{.extra_env = {std::string("FLASKCART_JWT_SECRET=") + kSecret}});
        service_ = service_holder_.get();
    }
    static void TearDownTestSuite() {
        service_ = nullptr;
        service_holder_.reset();
    }
    HttpClient client() const { return HttpClient(service_->port()); }
    db::Db database() const {
        return db::Db({.uri = service_->mongodb_uri(), .database = service_->database()});
    }
    static std::string unique_email(const std::string& tag) {
        static int counter = 0;
        return tag + std::to_string(counter++) + "-" + crypto::random_hex(4) + "@example.com";
    }
    static std::unique_ptr<Service> service_holder_;
    static Service* service_;
};
std::unique_ptr<Service> UserApi::service_holder_;
Service* UserApi::service_ = nullptr;

std::string base64url(std::string_view data) {
    std::string out(
        sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                      data.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string hs512_token(const std::string& header, const std::string& payload,
                        std::string_view key) {
    const std::string signing_input = base64url(header) + "." + base64url(payload);
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state state;
    crypto_auth_hmacsha512_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha512_update(
        &state, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
    crypto_auth_hmacsha512_final(&state, mac);
    return signing_input + "." +
           base64url(std::string_view(reinterpret_cast<char*>(mac), sizeof mac));
}

// A token signed like the service's own (HS256 with the test secret) around any payload.
std::string hs256_token(const boost::json::object& payload) {
    const std::string signing_input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." +
                                      base64url(boost::json::serialize(payload));
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(kSecret),
                                std::strlen(kSecret));
    crypto_auth_hmacsha256_update(
        &state, reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
    crypto_auth_hmacsha256_final(&state, mac);
    return signing_input + "." +
           base64url(std::string_view(reinterpret_cast<char*>(mac), sizeof mac));
}

std::string helpers_lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string helpers_upper(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

void expect_problem(const HttpResponse& response, int status) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.header("content-type"), "application/problem+json") << response.body;
}

TEST_F(UserApi, RegisterCreatesACustomerWithAHashedPassword) {
    const std::string email = unique_email("Reg");
    auto response = client().post("/register", {{"name", " Ann Lee "},
                                                {"email", "  " + email + " "},
                                                {"password", "correct-horse-1"},
                                                {"phone", "+44 20 7946 0000"},
                                                {"address", "1 High St"}});
    ASSERT_EQ(response.status, 201) << response.body;
    auto body = response.json().as_object();
    EXPECT_EQ(body["name"], "Ann Lee");
    EXPECT_EQ(body["email"].as_string(), helpers_lower(email));
    EXPECT_EQ(body["role"], "customer");
    EXPECT_EQ(body["phone"], "+44 20 7946 0000");
    EXPECT_FALSE(body.contains("password"));
    EXPECT_EQ(body["_id"].as_string().size(), 24U);
    EXPECT_EQ(response.header("location"), "/users/" + std::string(body["_id"].as_string()));
    EXPECT_EQ(body["created_at"].as_string().back(), 'Z');

    auto db = database();
    auto doc = db.collection("users").find_one(
        db::Bson(BCON_NEW("email", BCON_UTF8(helpers_lower(email).c_str()))));
    ASSERT_TRUE(doc);
    const std::string stored = doc->view().get_string("password").value_or("");
    EXPECT_EQ(stored.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0U) << stored;
    EXPECT_EQ(stored.find("correct-horse-1"), std::string::npos);
    EXPECT_TRUE(doc->view().get_date_ms("created_at"));
}

TEST_F(UserApi, RegisterRejectsInvalidFieldsNamingEachOne) {
    auto response = client().post("/register",
                                  {{"name", ""}, {"email", "not-an-email"}, {"password", "short"}});
    expect_problem(response, 422);
    auto errors = response.json().at("errors").as_object();
    EXPECT_TRUE(errors.contains("name"));
    EXPECT_TRUE(errors.contains("email"));
    EXPECT_TRUE(errors.contains("password"));

    auto missing = client().post("/register", boost::json::object{});
    expect_problem(missing, 422);
    EXPECT_EQ(missing.json().at("errors").at("email"), "is required");

    auto long_name = client().post("/register", {{"name", std::string(101, 'x')},
                                                 {"email", unique_email("ln")},
                                                 {"password", "correct-horse-1"}});
    expect_problem(long_name, 422);
    auto long_password = client().post(
        "/register",
        {{"name", "A"}, {"email", unique_email("lp")}, {"password", std::string(129, 'p')}});
    expect_problem(long_password, 422);
    auto nul_password = client().request(
        "POST", "/register",
        R"({"name": "N", "email": "nul@example.com", "password": "abc\u0000defghij"})");
    expect_problem(nul_password, 422);
    EXPECT_EQ(nul_password.json().at("errors").at("password"), "must not contain NUL characters");
    auto number_name = client().post(
        "/register", {{"name", 5}, {"email", unique_email("nn")}, {"password", "correct-horse-1"}});
    expect_problem(number_name, 422);
    EXPECT_EQ(number_name.json().at("errors").at("name"), "must be a string");
}

TEST_F(UserApi, RegisterRefusesMassAssignment) {
    for (const char* field : {"role", "_id", "created_at", "is_admin"}) {
        auto response = client().post("/register", {{"name", "Eve"},
                                                    {"email", unique_email("mass")},
                                                    {"password", "correct-horse-1"},
                                                    {field, "admin"}});
        expect_problem(response, 422);
        EXPECT_EQ(response.json().at("errors").at(field), "is not a recognised field") << field;
    }
    EXPECT_EQ(database().collection("users").count(db::Bson(BCON_NEW("role", BCON_UTF8("admin")))),
              0);
}

TEST_F(UserApi, OperatorInjectionIsAValidationErrorNeverAQuery) {
    const std::string email = unique_email("inj");
    register_and_login(client(), email);
    auto on_register =
        client().request("POST", "/register",
                         R"({"name": "x", "email": {"$ne": null}, "password": "correct-horse-1"})");
    expect_problem(on_register, 422);
    EXPECT_EQ(on_register.json().at("errors").at("email"), "must be a string");

    for (const char* body : {R"({"email": {"$ne": null}, "password": {"$ne": null}})",
                             R"({"email": {"$gt": ""}, "password": "correct-horse-1"})",
                             R"({"email": ["a"], "password": "correct-horse-1"})"}) {
        auto on_login = client().request("POST", "/login", body);
        expect_problem(on_login, 422);
    }
    auto regex_email =
        client().post("/login", {{"email", ".*@example.com"}, {"password", "correct-horse-1"}});
    EXPECT_EQ(regex_email.status, 401);
}

TEST_F(UserApi, DuplicateEmailInAnyLetterCaseIs409) {
    const std::string email = unique_email("dup");
    ASSERT_EQ(
        client()
            .post("/register", {{"name", "A"}, {"email", email}, {"password", "correct-horse-1"}})
            .status,
        201);
    const std::string upper = helpers_upper(email);
    auto again = client().post("/register",
                               {{"name", "B"}, {"email", upper}, {"password", "correct-horse-2"}});
    expect_problem(again, 409);
    EXPECT_EQ(database().collection("users").count(
                  db::Bson(BCON_NEW("email", BCON_UTF8(helpers_lower(email).c_str())))),
              1);
}

TEST_F(UserApi, ConcurrentRegistrationsOfOneEmailCreateExactlyOneAccount) {
    for (int round = 0; round < 8; ++round) {
        const std::string email = unique_email("race");
        std::vector<int> statuses(8);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(8, [&](int i) {
            statuses[static_cast<std::size_t>(i)] =
                client()
                    .post("/register", {{"name", "Racer " + std::to_string(i)},
                                        {"email", email},
                                        {"password", "correct-horse-1"}})
                    .status;
        }));
        int created = 0;
        int conflicts = 0;
        for (const int status : statuses) {
            created += status == 201 ? 1 : 0;
            conflicts += status == 409 ? 1 : 0;
        }
        EXPECT_EQ(created, 1) << "round " << round;
        EXPECT_EQ(conflicts, 7) << "round " << round;
        EXPECT_EQ(database().collection("users").count(
                      db::Bson(BCON_NEW("email", BCON_UTF8(helpers_lower(email).c_str())))),
                  1);
    }
}

TEST_F(UserApi, LoginReturnsABearerTokenAndTheUser) {
    const std::string email = unique_email("login");
    client().post("/register", {{"name", "L"}, {"email", email}, {"password", "correct-horse-1"}});
    auto response =
        client().post("/login", {{"email", helpers_upper(email)}, {"password", "correct-horse-1"}});
    ASSERT_EQ(response.status, 200) << response.body;
    auto body = response.json().as_object();
    EXPECT_EQ(body["token_type"], "Bearer");
    EXPECT_EQ(body["expires_in"], 3600);
    EXPECT_FALSE(body["user"].as_object().contains("password"));
    auto claims = crypto::verify_jwt_hs256(std::string(body["token"].as_string()), kSecret);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->subject, std::string(body["user"].at("_id").as_string()));
    EXPECT_EQ(claims->role, "customer");
    EXPECT_EQ(claims->issuer, "flaskcart");
    EXPECT_EQ(claims->expires_at - claims->issued_at, 3600);
    EXPECT_EQ(claims->token_id.size(), 32U);
}

TEST_F(UserApi, WrongPasswordAndUnknownEmailGetTheSameAnswer) {
    const std::string email = unique_email("enum");
    client().post("/register", {{"name", "E"}, {"email", email}, {"password", "correct-horse-1"}});
    auto wrong_password =
        client().post("/login", {{"email", email}, {"password", "wrong-horse-1"}});
    auto unknown_email =
        client().post("/login", {{"email", unique_email("ghost")}, {"password", "wrong-horse-1"}});
    expect_problem(wrong_password, 401);
    expect_problem(unknown_email, 401);
    EXPECT_EQ(wrong_password.header("www-authenticate"), unknown_email.header("www-authenticate"));
    auto a = wrong_password.json().as_object();
    auto b = unknown_email.json().as_object();
    EXPECT_EQ(a["detail"], b["detail"]);
    EXPECT_EQ(a["title"], b["title"]);
    EXPECT_EQ(a["type"], b["type"]);
}

TEST_F(UserApi, LogoutRevokesOnlyThatToken) {
    const std::string email = unique_email("logout");
    const std::string first = register_and_login(client(), email);
    const std::string second = register_and_login(client(), email);
    EXPECT_EQ(client().get("/profile", first).status, 200);
    auto logout = client().request("POST", "/logout", {}, bearer(first));
    EXPECT_EQ(logout.status, 204);
    auto after = client().get("/profile", first);
    expect_problem(after, 401);
    EXPECT_NE(after.header("www-authenticate").find("Bearer"), std::string::npos);
    EXPECT_EQ(client().get("/profile", second).status, 200);
    EXPECT_EQ(client().request("POST", "/logout", {}, bearer(first)).status, 401);
    EXPECT_EQ(client().request("POST", "/logout").status, 401);
    auto claims = crypto::verify_jwt_hs256(first, kSecret);
    ASSERT_TRUE(claims);
    EXPECT_TRUE(database()
                    .collection("revoked_tokens")
                    .find_one(db::Bson(BCON_NEW("_id", BCON_UTF8(claims->token_id.c_str())))));
}

// On FerretDB a second instance on one database runs only as --read-only (one writer per
// database); it still checks tokens against the revocations the writer stored.
TEST_F(UserApi, LogoutHoldsAcrossInstancesSharingTheDatabase) {
    Service other({.database = service_->database(),
                   .extra_args = {"--read-only"},
                   .extra_env = {std::string("FLASKCART_JWT_SECRET=") + kSecret}});
    HttpClient other_client(other.port());
    const std::string token = register_and_login(client(), unique_email("multi"));
    EXPECT_EQ(other_client.get("/profile", token).status, 200);
    // A logout is a write: the read-only instance refuses it and the token stays valid.
    EXPECT_EQ(other_client.request("POST", "/logout", {}, bearer(token)).status, 503);
    EXPECT_EQ(other_client.get("/profile", token).status, 200);
    EXPECT_EQ(client().request("POST", "/logout", {}, bearer(token)).status, 204);
    // The other instance learns of it through the change feed, within the README's bound
    // (1 s; 3 s here for a loaded test machine).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int status = other_client.get("/profile", token).status;
    while (status != 401 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        status = other_client.get("/profile", token).status;
    }
    EXPECT_EQ(status, 401);
}

TEST_F(UserApi, TamperedTokensAreRefused) {
    const std::string token = register_and_login(client(), unique_email("tamper"));
    auto claims = crypto::verify_jwt_hs256(token, kSecret);
    ASSERT_TRUE(claims);
    const std::int64_t now = db::now_ms() / 1000;
    auto payload = [&](std::int64_t exp, bool with_exp = true) {
        boost::json::object p{{"sub", claims->subject},
                              {"role", "admin"},
                              {"iat", now},
                              {"jti", "x" + crypto::random_hex(8)},
                              {"iss", "flaskcart"}};
        if (with_exp) p["exp"] = exp;
        return boost::json::serialize(p);
    };
    crypto::JwtClaims expired = *claims;
    expired.issued_at = now - 7200;
    expired.expires_at = now - 3600;
    crypto::JwtClaims other_issuer = *claims;
    other_issuer.issuer = "someone-else";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"alg none",
         base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(payload(now + 3600)) + "."},
        {"HS512 with the real secret",
         hs512_token(R"({"alg":"HS512","typ":"JWT"})", payload(now + 3600), kSecret)},
        {"another secret",
         crypto::sign_jwt_hs256(*claims, "another-secret-another-secret-another!")},
        {"expired", crypto::sign_jwt_hs256(expired, kSecret)},
        {"another issuer", crypto::sign_jwt_hs256(other_issuer, kSecret)},
        {"missing exp", hs512_token(R"({"alg":"HS256","typ":"JWT"})", payload(0, false), kSecret)},
        {"malformed header", "not-base64!." + token.substr(token.find('.') + 1)},
        {"garbage", "abc"},
        {"flipped signature",
         token.substr(0, token.size() - 2) + (token.back() == 'A' ? "BB" : "AA")},
        {"empty", ""},
    };
    for (const auto& [name, bad] : cases) {
        auto response =
            client().request("GET", "/profile", {}, {{"Authorization", "Bearer " + bad}});
        EXPECT_EQ(response.status, 401) << name;
        EXPECT_NE(response.header("www-authenticate").find("Bearer"), std::string::npos) << name;
    }
    auto basic = client().request("GET", "/profile", {}, {{"Authorization", "Basic " + token}});
    EXPECT_EQ(basic.status, 401);
    EXPECT_EQ(client().get("/profile").status, 401);
    // The genuine token still works.
    EXPECT_EQ(client().get("/profile", token).status, 200);
}

TEST_F(UserApi, TokenTimesAreBoundedAndNotBeforeIsHonoured) {
    const std::string token = register_and_login(client(), unique_email("times"));
    auto claims = crypto::verify_jwt_hs256(token, kSecret);
    ASSERT_TRUE(claims);
    const std::int64_t now = db::now_ms() / 1000;
    constexpr std::int64_t kTtl = 3600;  // the service's default --token-ttl
    // The service's own claims, with `changes` applied (a null value removes the claim).
    auto forge = [&](const boost::json::object& changes) {
        boost::json::object payload{
            {"sub", claims->subject}, {"role", "customer"},           {"iat", now},
            {"exp", now + 600},       {"jti", crypto::random_hex(8)}, {"iss", "flaskcart"}};
        for (const auto& [key, value] : changes) {
            if (value.is_null()) {
                payload.erase(key);
            } else {
                payload[key] = value;
            }
        }
        return hs256_token(payload);
    };
    // Controls: forged like the service signs, they are accepted.
    EXPECT_EQ(client().get("/profile", forge({})).status, 200);
    EXPECT_EQ(client().get("/profile", forge({{"nbf", now - 5}})).status, 200);
    EXPECT_EQ(client().get("/profile", forge({{"exp", now + kTtl}})).status, 200);

    const std::vector<std::pair<std::string, boost::json::object>> refused = {
        {"nbf in the future", {{"nbf", now + 600}}},
        {"nbf one minute ahead", {{"nbf", now + 60}}},
        {"nbf not an integer", {{"nbf", "soon"}}},
        {"nbf a fraction", {{"nbf", 1.5}}},
        {"exp 10^18", {{"exp", std::int64_t{1'000'000'000'000'000'000}}}},
        {"exp past the TTL", {{"exp", now + kTtl + 3600}}},
        {"exp as large as int64", {{"exp", std::numeric_limits<std::int64_t>::max()}}},
        {"exp a fraction", {{"exp", static_cast<double>(now + 600) + 0.5}}},
        {"exp missing", {{"exp", nullptr}}},
        {"iat in the future", {{"iat", now + 3600}}},
    };
    for (const auto& [name, changes] : refused) {
        auto response = client().get("/profile", forge(changes));
        expect_problem(response, 401);
        EXPECT_EQ(response.status, 401) << name;
        EXPECT_NE(response.header("www-authenticate").find("Bearer"), std::string::npos) << name;
    }

    // Logging out a token with an absurd expiry is refused, and nothing is stored for it (it
    // used to store exp × 1000, which overflows).
    const std::string far_future = forge({{"exp", std::int64_t{1'000'000'000'000'000'000}}});
    const auto far_claims = crypto::verify_jwt_hs256(far_future, kSecret);
    ASSERT_TRUE(far_claims);
    EXPECT_EQ(client().request("POST", "/logout", {}, bearer(far_future)).status, 401);
    EXPECT_FALSE(database()
                     .collection("revoked_tokens")
                     .find_one(db::Bson(BCON_NEW("_id", BCON_UTF8(far_claims->token_id.c_str())))));
    // A genuine logout stores the token's expiry in milliseconds.
    EXPECT_EQ(client().request("POST", "/logout", {}, bearer(token)).status, 204);
    auto revoked = database()
                       .collection("revoked_tokens")
                       .find_one(db::Bson(BCON_NEW("_id", BCON_UTF8(claims->token_id.c_str()))));
    ASSERT_TRUE(revoked);
    EXPECT_EQ(revoked->view().get_date_ms("expires_at"), claims->expires_at * 1000);
}

TEST(UserApiLimits, RegistrationIsLimitedPerAddress) {
    Service service({.extra_args = {"--register-max-per-address=3"}});
    HttpClient client(service.port());
    auto body = [](const std::string& email) {
        return boost::json::object{
            {"name", "Limited"}, {"email", email}, {"password", "correct-horse-1"}};
    };
    const std::string tag = crypto::random_hex(4);
    EXPECT_EQ(client.post("/register", body("a" + tag + "@example.com")).status, 201);
    EXPECT_EQ(client.post("/register", body("b" + tag + "@example.com")).status, 201);
    // A duplicate counts too: it costs a hash and says whether the email is registered.
    EXPECT_EQ(client.post("/register", body("a" + tag + "@example.com")).status, 409);
    auto limited = client.post("/register", body("c" + tag + "@example.com"));
    expect_problem(limited, 429);
    const std::string retry_after = limited.header("retry-after");
    ASSERT_FALSE(retry_after.empty());
    EXPECT_GT(std::stoi(retry_after), 0);
    EXPECT_LE(std::stoi(retry_after), 601);
    // Invalid bodies are still answered as such, and signing in is not affected.
    expect_problem(client.post("/register", {{"name", "x"}}), 422);
    auto login = client.post(
        "/login", {{"email", "a" + tag + "@example.com"}, {"password", "correct-horse-1"}});
    EXPECT_EQ(login.status, 200) << login.body;
}

TEST(UserApiLimits, ConcurrentRegistrationsFromOneAddressStopAtTheLimit) {
    // Each round is a fresh forwarded client behind a trusted proxy, so it starts at zero.
    Service service({.extra_args = {"--register-max-per-address=3", "--trusted-proxies=127.0.0.1",
                                    "--workers=16"}});
    HttpClient client(service.port());
    const std::string tag = crypto::random_hex(4);
    for (int round = 0; round < 5; ++round) {
        const std::string address = "198.51.100." + std::to_string(round + 1);
        std::vector<std::future<int>> attempts;
        for (int i = 0; i < 12; ++i) {
            attempts.push_back(std::async(std::launch::async, [&, i] {
                return client
                    .post("/register",
                          {{"name", "Burst"},
                           {"email", "burst" + std::to_string(round) + "-" + std::to_string(i) +
                                         tag + "@example.com"},
                           {"password", "correct-horse-1"}},
                          {}, {{"X-Forwarded-For", address}})
                    .status;
            }));
        }
        int created = 0;
        int limited = 0;
        for (auto& attempt : attempts) {
            const int status = attempt.get();
            if (status == 201) ++created;
            if (status == 429) ++limited;
        }
        EXPECT_EQ(created, 3) << "round " << round;
        EXPECT_EQ(limited, 9) << "round " << round;
    }
}

TEST(UserApiLimits, ForwardedForIsIgnoredUnlessThePeerIsATrustedProxy) {
    Service service({.extra_args = {"--register-max-per-address=2"}});
    HttpClient client(service.port());
    const std::string tag = crypto::random_hex(4);
    auto register_from = [&](const std::string& forwarded, int n) {
        return client.post("/register",
                           {{"name", "Proxied"},
                            {"email", "u" + std::to_string(n) + tag + "@example.com"},
                            {"password", "correct-horse-1"}},
                           {}, {{"X-Forwarded-For", forwarded}});
    };
    EXPECT_EQ(register_from("198.51.100.1", 1).status, 201);
    EXPECT_EQ(register_from("198.51.100.2", 2).status, 201);
    // Off by default: a client cannot pick a fresh key by claiming another address.
    expect_problem(register_from("198.51.100.3", 3), 429);
}

TEST(UserApiLimits, BehindATrustedProxyEachForwardedClientHasItsOwnLimits) {
    Service service(
        {.extra_args = {"--register-max-per-address=2", "--login-max-failures-per-address=2",
                        "--trusted-proxies=10.0.0.0/8, 127.0.0.1"}});
    HttpClient client(service.port());
    const std::string tag = crypto::random_hex(4);
    int counter = 0;
    auto register_from = [&](const std::string& forwarded) {
        return client.post("/register",
                           {{"name", "Proxied"},
                            {"email", "p" + std::to_string(counter++) + tag + "@example.com"},
                            {"password", "correct-horse-1"}},
                           {}, {{"X-Forwarded-For", forwarded}});
    };
    EXPECT_EQ(register_from("198.51.100.1").status, 201);
    EXPECT_EQ(register_from("198.51.100.1").status, 201);
    expect_problem(register_from("198.51.100.1"), 429);
    // Another client behind the same proxy is not locked out.
    EXPECT_EQ(register_from("198.51.100.2").status, 201);
    // Prepending a made-up hop does not escape the limit: the rightmost untrusted hop counts,
    // past any trusted proxies in the chain.
    expect_problem(register_from("203.0.113.50, 198.51.100.1"), 429);
    expect_problem(register_from("203.0.113.51, 198.51.100.1, 10.1.2.3"), 429);
    // Repeated header lines are one list, in order: a second proxy appended its own line.
    const std::string body =
        boost::json::serialize(boost::json::object{{"name", "Proxied"},
                                                   {"email", "lines" + tag + "@example.com"},
                                                   {"password", "correct-horse-1"}});
    const std::string two_lines = client.raw(
        "POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 10.1.2.3\r\n"
        "Connection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(two_lines.rfind("HTTP/1.1 429", 0), 0U) << two_lines;

    // Failed logins are counted per forwarded client as well.
    auto fail_login = [&](const std::string& forwarded) {
        return client.post("/login",
                           {{"email", "nobody" + std::to_string(counter++) + tag + "@example.com"},
                            {"password", "wrong-password-1"}},
                           {}, {{"X-Forwarded-For", forwarded}});
    };
    EXPECT_EQ(fail_login("198.51.100.7").status, 401);
    EXPECT_EQ(fail_login("198.51.100.7").status, 401);
    expect_problem(fail_login("198.51.100.7"), 429);
    EXPECT_EQ(fail_login("198.51.100.8").status, 401);
}

TEST(UserApiLimits, ABadTrustedProxiesSettingIsRefusedAtStartUp) {
    std::string output;
    ChildProcess process({service_binary(), "--trusted-proxies=10.0.0.0/8,proxy.local"}, {},
                         test_log_dir() + "/trusted-proxies.log");
    while (auto line = process.read_line(std::chrono::seconds(30))) output += *line + "\n";
    EXPECT_EQ(process.wait_for_exit(std::chrono::seconds(30)), 2);
}

TEST_F(UserApi, ProfileUpdatesAndPasswordChange) {
    const std::string email = unique_email("prof");
    const std::string token = register_and_login(client(), email);
    auto updated = client().put(
        "/profile", {{"name", "New Name"}, {"phone", "123"}, {"address", "2 Low Rd"}}, token);
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(updated.json().at("name"), "New Name");
    EXPECT_EQ(updated.json().at("address"), "2 Low Rd");
    EXPECT_EQ(client().get("/profile", token).json().at("phone"), "123");

    expect_problem(client().put("/profile", {{"password", "new-password-1"}}, token), 422);
    auto wrong_current = client().put(
        "/profile", {{"password", "new-password-1"}, {"current_password", "wrong-pass-1"}}, token);
    expect_problem(wrong_current, 403);
    EXPECT_EQ(wrong_current.json().at("errors").at("current_password"), "does not match");
    expect_problem(client().put("/profile", {{"email", "x@y.zz"}}, token), 422);
    expect_problem(client().put("/profile", {{"role", "admin"}}, token), 422);
    expect_problem(client().put("/profile", {{"name", ""}}, token), 422);

    auto changed = client().put(
        "/profile", {{"password", "new-password-1"}, {"current_password", kTestPassword}}, token);
    EXPECT_EQ(changed.status, 200) << changed.body;
    EXPECT_EQ(client().post("/login", {{"email", email}, {"password", kTestPassword}}).status, 401);
    EXPECT_EQ(client().post("/login", {{"email", email}, {"password", "new-password-1"}}).status,
              200);
    EXPECT_EQ(client().put("/profile", {{"name", "x"}}).status, 401);
}

TEST_F(UserApi, UsersAreReadableBySelfOrAdminOnly) {
    const std::string alice = register_and_login(client(), unique_email("alice"));
    const std::string bob = register_and_login(client(), unique_email("bob"));
    const std::string admin = make_admin(*service_, client(), unique_email("admin"));
    const std::string alice_id = user_id_of(client(), alice);
    EXPECT_EQ(client().get("/users/" + alice_id, alice).status, 200);
    expect_problem(client().get("/users/" + alice_id, bob), 403);
    expect_problem(client().get("/users/" + alice_id), 401);
    auto as_admin = client().get("/users/" + alice_id, admin);
    EXPECT_EQ(as_admin.status, 200);
    EXPECT_FALSE(as_admin.json().as_object().contains("password"));
    expect_problem(client().get("/users/000000000000000000000000", admin), 404);
    expect_problem(client().get("/users/not-an-id", admin), 404);
}

TEST_F(UserApi, AdminListsUsersAndChangesRoles) {
    const std::string customer = register_and_login(client(), unique_email("cust"));
    const std::string admin = make_admin(*service_, client(), unique_email("boss"));
    expect_problem(client().get("/users", customer), 403);
    expect_problem(client().get("/users"), 401);
    auto list = client().get("/users?page=1&limit=2", admin);
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.json().at("items").as_array().size(), 2U);
    EXPECT_GE(list.json().at("total").as_int64(), 2);
    EXPECT_EQ(list.json().at("limit"), 2);
    expect_problem(client().get("/users?limit=0", admin), 422);

    const std::string customer_id = user_id_of(client(), customer);
    expect_problem(client().put("/users/" + customer_id + "/role", {{"role", "admin"}}, customer),
                   403);
    expect_problem(client().put("/users/" + customer_id + "/role", {{"role", "root"}}, admin), 422);
    expect_problem(client().put("/users/000000000000000000000000/role", {{"role", "admin"}}, admin),
                   404);
    auto promoted = client().put("/users/" + customer_id + "/role", {{"role", "admin"}}, admin);
    EXPECT_EQ(promoted.status, 200);
    EXPECT_EQ(promoted.json().at("role"), "admin");
    // The promoted user's existing token now passes admin checks: the database decides.
    EXPECT_EQ(client().get("/users", customer).status, 200);
    // And a demoted admin's token stops passing them at once.
    EXPECT_EQ(client().put("/users/" + customer_id + "/role", {{"role", "customer"}}, admin).status,
              200);
    expect_problem(client().get("/users", customer), 403);
}

TEST(UserApiAdmins, TheLastAdminCannotBeDemoted) {
    Service service;
    HttpClient client(service.port());
    const std::string admin = make_admin(service, client, "only-admin@example.com");
    const std::string admin_id = user_id_of(client, admin);
    auto refused = client.put("/users/" + admin_id + "/role", {{"role", "customer"}}, admin);
    expect_problem(refused, 409);
    const std::string second = make_admin(service, client, "second-admin@example.com");
    EXPECT_EQ(client.put("/users/" + admin_id + "/role", {{"role", "customer"}}, second).status,
              200);
    expect_problem(client.get("/users", admin), 403);
}

// Two admins demoting each other at the same moment: each request alone is allowed (there is
// another admin), together they would leave none. At most one may win; never zero admins.
TEST(UserApiAdmins, AdminsDemotingEachOtherAtOnceNeverLeaveNone) {
    Service service;
    HttpClient client(service.port());
    const std::string first = make_admin(service, client, "first-admin@example.com");
    const std::string second = make_admin(service, client, "second-admin@example.com");
    const std::array<std::string, 2> tokens{first, second};
    const std::array<std::string, 2> ids{user_id_of(client, first), user_id_of(client, second)};
    db::Db db({.uri = service.mongodb_uri(), .database = service.database()});
    const auto count_admins = [&] {
        return db.collection("users").count(db::Bson(BCON_NEW("role", BCON_UTF8("admin"))));
    };
    for (int round = 0; round < 12; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        for (const auto& id : ids) {
            const bson_oid_t oid = *db::parse_oid(id);
            db.collection("users").update_one(
                db::Bson(BCON_NEW("_id", BCON_OID(&oid))),
                db::Bson(BCON_NEW("$set", "{", "role", BCON_UTF8("admin"), "}")));
        }
        ASSERT_EQ(count_admins(), 2);
        std::array<int, 2> statuses{};
        ASSERT_NO_FATAL_FAILURE(run_concurrently(2, [&](int i) {
            // Admin i demotes the other one.
            const auto response =
                client.put("/users/" + ids[static_cast<std::size_t>(1 - i)] + "/role",
                           {{"role", "customer"}}, tokens[static_cast<std::size_t>(i)]);
            statuses[static_cast<std::size_t>(i)] = response.status;
            // 403: the other demotion landed before this request's admin check.
            EXPECT_TRUE(response.status == 200 || response.status == 403 || response.status == 409)
                << response.status << " " << response.body;
        }));
        EXPECT_GE(count_admins(), 1) << "both demotions applied: no admin is left";
        EXPECT_LE(std::count(statuses.begin(), statuses.end(), 200), 1);
        EXPECT_EQ(count_admins(), 2 - std::count(statuses.begin(), statuses.end(), 200));
    }
}

TEST_F(UserApi, DeletedUsersTokensStopWorking) {
    const std::string email = unique_email("gone");
    const std::string token = register_and_login(client(), email);
    ASSERT_EQ(client().get("/profile", token).status, 200);
    const std::string id = user_id_of(client(), token);
    database().collection("users").delete_one(
        db::Bson(BCON_NEW("email", BCON_UTF8(helpers_lower(email).c_str()))));
    // FlaskCart has no route that deletes users: a deletion made in the database is announced
    // on the change feed (as an operator's tool would), then refused within the bound.
    db::Db db = database();
    models::ChangeLogStore(db).publish("operator", {{'u', id, 0}});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    auto response = client().get("/profile", token);
    while (response.status != 401 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        response = client().get("/profile", token);
    }
    expect_problem(response, 401);
}

TEST_F(UserApi, CreateAdminIsIdempotentAndNeverTakesThePasswordAsAFlag) {
    const std::string email = unique_email("root");
    std::string output;
    EXPECT_EQ(run_cli(*service_, {"create-admin", "--email", email, "--name", "Root"}, &output,
                      {"FLASKCART_ADMIN_PASSWORD=root-password-1"}),
              0)
        << output;
    EXPECT_EQ(run_cli(*service_, {"create-admin", "--email", email}, &output), 0) << output;
    EXPECT_EQ(database().collection("users").count(
                  db::Bson(BCON_NEW("email", BCON_UTF8(helpers_lower(email).c_str())))),
              1);
    auto login = client().post("/login", {{"email", email}, {"password", "root-password-1"}});
    ASSERT_EQ(login.status, 200);
    EXPECT_EQ(login.json().at("user").at("role"), "admin");
    EXPECT_NE(
        run_cli(*service_, {"create-admin", "--email", unique_email("x"), "--password", "pw"}), 0);
    EXPECT_NE(run_cli(*service_, {"create-admin", "--email", unique_email("short"), "--name", "S"},
                      nullptr, {"FLASKCART_ADMIN_PASSWORD=short"}),
              0);
}

TEST(UserApiLimits, RepeatedFailedLoginsAreThrottled) {
    Service service(
        {.extra_args = {"--login-max-failures-per-email=3", "--login-max-failures-per-address=6",
                        "--login-lockout-seconds=60"}});
    HttpClient client(service.port());
    const std::string email = "locked@example.com";
    register_and_login(client, email);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(client.post("/login", {{"email", email}, {"password", "wrong-horse-1"}}).status,
                  401);
    }
    auto locked = client.post("/login", {{"email", email}, {"password", kTestPassword}});
    expect_problem(locked, 429);
    EXPECT_GT(std::stoi(locked.header("retry-after")), 0);
    // Other accounts from this address still work until the address limit is reached.
    const std::string other = "other@example.com";
    register_and_login(client, other);
    // 3 failures so far from this address; 3 more reach its limit of 6.
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(client
                      .post("/login", {{"email", "ghost" + std::to_string(i) + "@example.com"},
                                       {"password", "wrong-horse-1"}})
                      .status,
                  401);
    }
    auto by_address = client.post("/login", {{"email", other}, {"password", kTestPassword}});
    expect_problem(by_address, 429);
}

// A burst of wrong passwords sent at once must not pass the limit: each guess is counted
// before it is checked, so at most max-failures guesses are ever evaluated per lockout window.
TEST(UserApiLimits, ConcurrentWrongPasswordsNeverPassTheLimit) {
    Service service(
        {.extra_args = {"--login-max-failures-per-email=3", "--login-max-failures-per-address=1000",
                        "--login-lockout-seconds=60", "--workers=16"}});
    HttpClient client(service.port());
    for (int round = 0; round < 3; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::string email = "burst" + std::to_string(round) + "@example.com";
        register_and_login(client, email);
        constexpr int kGuesses = 12;
        std::vector<HttpResponse> responses(kGuesses);
        ASSERT_NO_FATAL_FAILURE(run_concurrently(kGuesses, [&](int i) {
            responses[static_cast<std::size_t>(i)] = client.post(
                "/login", {{"email", email}, {"password", "wrong-guess-" + std::to_string(i)}});
        }));
        int evaluated = 0;
        for (const auto& response : responses) {
            if (response.status == 401) {
                ++evaluated;
            } else {
                expect_problem(response, 429);
                EXPECT_FALSE(response.header("retry-after").empty());
            }
        }
        EXPECT_LE(evaluated, 3) << "guesses checked beyond the limit of 3";
        EXPECT_GE(evaluated, 1);
        // The account is locked now, even for the right password.
        expect_problem(client.post("/login", {{"email", email}, {"password", kTestPassword}}), 429);
    }
}

TEST(Passwords, StoredHashIsArgon2idWithTheConfiguredCostAndVerifies) {
    crypto::sodium_ready();
    const std::string hash =
        crypto::hash_password("correct-horse-1", {.opslimit = 3, .memlimit_kib = 20480});
    EXPECT_EQ(hash.rfind("$argon2id$v=19$m=20480,t=3,p=1$", 0), 0U) << hash;
    EXPECT_TRUE(crypto::verify_password(hash, "correct-horse-1"));
    EXPECT_FALSE(crypto::verify_password(hash, "correct-horse-2"));
    EXPECT_NE(hash,
              crypto::hash_password("correct-horse-1", {.opslimit = 3, .memlimit_kib = 20480}));
}

}  // namespace
}  // namespace flaskcart::testing
