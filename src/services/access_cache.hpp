#pragma once
// What the token check needs, in memory: the revoked token ids (all of them, loaded at start-up
// and kept current by services/change_feed.*) and the current role of users seen recently.
// Thread-safe; every call is a short in-memory critical section.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flaskcart::services {

class AccessCache {
  public:
    using Clock = std::chrono::steady_clock;
    // Users are re-read from the database after `user_ttl` even without a change notice: the
    // backstop for edits made in the database by hand. At most `max_users` are kept.
    explicit AccessCache(std::chrono::seconds user_ttl = std::chrono::seconds(60),
                         std::size_t max_users = 200'000);

    // Role of a user seen within the TTL; std::nullopt when unknown (read the database).
    std::optional<std::string> role_of(std::string_view user_id, Clock::time_point now) const;
    // From a database read: kept unless a newer state (by updated_at) is already known.
    void remember_user(std::string_view user_id, std::string_view role, std::int64_t updated_at_ms,
                       Clock::time_point now);
    // From a write this instance made (authoritative, whatever the clock says).
    void user_written(std::string_view user_id, std::string_view role, std::int64_t updated_at_ms,
                      Clock::time_point now);
    void forget_user(std::string_view user_id);
    void forget_all_users();

    bool is_revoked(std::string_view token_id) const;
    void revoke(std::string_view token_id, std::int64_t expires_at_ms);
    void replace_revocations(const std::vector<std::pair<std::string, std::int64_t>>& revoked);
    // Forgets revocations of tokens that have expired anyway.
    void purge_expired(std::int64_t now_ms);

    std::size_t user_count() const;
    std::size_t revocation_count() const;

  private:
    struct UserEntry {
        std::string role;
        std::int64_t updated_at_ms = 0;
        Clock::time_point cached_at;
    };
    void make_room(Clock::time_point now);

    std::chrono::seconds user_ttl_;
    std::size_t max_users_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, UserEntry> users_;
    std::unordered_map<std::string, std::int64_t> revoked_;  // token id → expires_at_ms
};

}  // namespace flaskcart::services
