#include "services/access_cache.hpp"

namespace flaskcart::services {

AccessCache::AccessCache(std::chrono::seconds user_ttl, std::size_t max_users)
    : user_ttl_(user_ttl), max_users_(max_users) {}

std::optional<std::string> AccessCache::role_of(std::string_view user_id,
                                                Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    auto it = users_.find(std::string(user_id));
    if (it == users_.end() || it->second.cached_at + user_ttl_ < now) return std::nullopt;
    return it->second.role;
}

void AccessCache::make_room(Clock::time_point now) {
    if (users_.size() < max_users_) return;
    std::erase_if(users_,
                  [&](const auto& item) { return item.second.cached_at + user_ttl_ < now; });
    // Still full of fresh entries: start over rather than grow without bound.
    if (users_.size() >= max_users_) users_.clear();
}

void AccessCache::remember_user(std::string_view user_id, std::string_view role,
                                std::int64_t updated_at_ms, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = users_.find(std::string(user_id));
    if (it != users_.end()) {
        // A read that started before a write this instance made must not undo it.
        if (updated_at_ms < it->second.updated_at_ms) return;
        it->second = {std::string(role), updated_at_ms, now};
        return;
    }
    make_room(now);
    users_.emplace(std::string(user_id), UserEntry{std::string(role), updated_at_ms, now});
}

void AccessCache::user_written(std::string_view user_id, std::string_view role,
                               std::int64_t updated_at_ms, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    make_room(now);
    users_.insert_or_assign(std::string(user_id), UserEntry{std::string(role), updated_at_ms, now});
}

void AccessCache::forget_user(std::string_view user_id) {
    std::lock_guard lock(mutex_);
    users_.erase(std::string(user_id));
}

void AccessCache::forget_all_users() {
    std::lock_guard lock(mutex_);
    users_.clear();
}

bool AccessCache::is_revoked(std::string_view token_id) const {
    std::lock_guard lock(mutex_);
    return revoked_.count(std::string(token_id)) > 0;
}

void AccessCache::revoke(std::string_view token_id, std::int64_t expires_at_ms) {
    std::lock_guard lock(mutex_);
    revoked_.insert_or_assign(std::string(token_id), expires_at_ms);
}

void AccessCache::replace_revocations(
    const std::vector<std::pair<std::string, std::int64_t>>& revoked) {
    std::unordered_map<std::string, std::int64_t> fresh;
    fresh.reserve(revoked.size());
    for (const auto& [id, expires] : revoked) fresh.insert_or_assign(id, expires);
    std::lock_guard lock(mutex_);
    // Revocations made here while the database was being read stay revoked.
    for (const auto& [id, expires] : revoked_) fresh.emplace(id, expires);
    revoked_ = std::move(fresh);
}

void AccessCache::purge_expired(std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    std::erase_if(revoked_, [&](const auto& item) { return item.second < now_ms; });
}

std::size_t AccessCache::user_count() const {
    std::lock_guard lock(mutex_);
    return users_.size();
}

std::size_t AccessCache::revocation_count() const {
    std::lock_guard lock(mutex_);
    return revoked_.size();
}

}  // namespace flaskcart::services
