#pragma once
// Password hashing as the account rules need it: services::AuthService (argon2id, bounded
// concurrency) in production, a cheap fake in unit tests.

#include <string>

namespace flaskcart::services {

class PasswordHasher {
  public:
    virtual ~PasswordHasher() = default;
    virtual std::string hash_password(const std::string& password) = 0;
    virtual bool verify_password(const std::string& hash, const std::string& password) = 0;
};

}  // namespace flaskcart::services
