#pragma once
// Collection `checkout_claims`: {_id: user_id, token, order_id?, claimed_at}. A checkout first
// claims the user's cart; the claim's _id is the user's id, so claiming is an insert that the
// unique _id decides (atomic on MongoDB and FerretDB alike, across instances) and a cart is
// checked out by one request at a time. See services/checkout_service.hpp for how checkout and
// recovery use it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flaskcart::db {
class Db;
}

namespace flaskcart::models {

struct CheckoutClaim {
    std::string user_id;
    std::string token;                    // random, names the checkout holding the claim
    std::optional<std::string> order_id;  // set once that checkout has inserted its order
    std::int64_t claimed_at_ms = 0;
};

// Thread-safe. Ids are 24-hex strings validated by the caller.
class CheckoutClaimStore {
  public:
    explicit CheckoutClaimStore(db::Db& db) : db_(db) {}
    static void ensure_indexes(db::Db& db);

    // Inserts the claim; false when the user's cart is already claimed.
    bool try_claim(const std::string& user_id, const std::string& token, std::int64_t now_ms);
    std::optional<CheckoutClaim> find(const std::string& user_id);
    // Records the claiming checkout's order, only while `token` still holds the claim and has
    // recorded none. False when the claim was taken over.
    bool attach_order(const std::string& user_id, const std::string& token,
                      const std::string& order_id);
    // Deletes the claim only if it is still exactly as read (same token, same order or still
    // none), so a takeover never frees a claim that moved on meanwhile. True if deleted.
    bool release(const CheckoutClaim& claim);
    // Releases the claim `token` holds, whatever order it names (the holder's own release).
    bool release_own(const std::string& user_id, const std::string& token);
    // For recovery: claims taken before `claimed_before_ms`, oldest first.
    std::vector<CheckoutClaim> find_stale(std::int64_t claimed_before_ms, std::int64_t limit);

  private:
    db::Db& db_;
};

}  // namespace flaskcart::models
