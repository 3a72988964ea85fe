#pragma once
// The authenticated caller: who a verified token names, with the role the database gives that
// user now. The domain's view of "the caller"; the HTTP layer keeps one per request.

#include <cstdint>
#include <string>

namespace flaskcart::services {

struct Principal {
    std::string user_id;
    std::string role;
    std::string token_id;
    std::int64_t expires_at = 0;  // seconds since the epoch
    bool is_admin() const noexcept { return role == "admin"; }
};

}  // namespace flaskcart::services
