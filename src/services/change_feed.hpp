#pragma once
// Keeps this instance's read models (the catalog, the token check's revocations and roles) equal
// to the database, and tells other instances what this one wrote.
//
// - Start-up (load): read the change counter, then the whole catalog and every unexpired
//   revocation. /ready stays 503 until this is done. The products come from the catalog snapshot
//   (models::CatalogSnapshotStore) when it exists, every change batch published after it is
//   still there to replay (at most kMaxSnapshotReplayItems items) and every earlier writer
//   stopped cleanly (begin_writing); otherwise from the products collection, and then the writer
//   stores a new snapshot (write_pending_snapshot, after /ready).
// - A write this instance makes reaches the database first; the store then calls this listener
//   (while it still holds the document's in-process lock), which updates the read model at once
//   (read-your-writes) and queues a change notice.
// - Every `interval` (default 200 ms) the sync thread publishes the queued notices as one batch
//   (models::ChangeLogStore) and polls the change counter by _id. When it moved, it reads the new
//   batches and reloads, by _id, what other instances changed.
//   So another instance sees a write within 2 × interval plus one reload (< 1 s by default).
// - A batch number that stays missing for `gap_timeout` (a writer died between taking the number
//   and writing the batch, or the batch was purged while this instance was cut off) triggers a
//   full reload, so nothing is missed for longer than that.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "models/catalog_snapshot_model.hpp"
#include "models/change_model.hpp"
#include "models/write_listener.hpp"
#include "services/access_cache.hpp"
#include "services/auth_service.hpp"
#include "services/catalog_read_model.hpp"

namespace flaskcart::db {
class Db;
}
namespace flaskcart::models {
class ProductStore;
class CategoryStore;
class UserStore;
class RevokedTokenStore;
}  // namespace flaskcart::models

namespace flaskcart::services {

struct ChangeFeedOptions {
    std::chrono::milliseconds interval{200};
    std::chrono::milliseconds gap_timeout{5000};
    // Batches older than this are purged by maintenance.
    std::chrono::seconds retention{600};
};

struct ChangeFeedStores {
    models::ProductStore& products;
    models::CategoryStore& categories;
    models::UserStore& users;
    models::RevokedTokenStore& revoked_tokens;
    models::ChangeLogStore& changes;
};

// Thread-safe. load() and sync_once() throw db::DbError when the database fails.
class ChangeFeed final : public models::WriteListener, public AccountDirectory {
  public:
    ChangeFeed(db::Db& db, ChangeFeedStores stores, CatalogReadModel& catalog, AccessCache& access,
               ChangeFeedOptions options);
    ~ChangeFeed() override;
    ChangeFeed(const ChangeFeed&) = delete;
    ChangeFeed& operator=(const ChangeFeed&) = delete;

    // `use_snapshot`: only for the writer instance, which starts when no other instance can
    // have written without publishing yet (a reader started beside a running writer could miss
    // the writer's last sync interval of writes, so it loads the collection).
    // Also only with the snapshot when every earlier writer stopped cleanly (begin_writing).
    void load(bool use_snapshot = false);
    // Before this instance's first write (load(true) calls it when not yet done): notes whether
    // every earlier writer session was closed by stop_writing_cleanly(), then opens this one. A
    // writer killed between a write and publishing its notice leaves its session open, and its
    // write is then in no change batch: the snapshot cannot be trusted, the collection is read.
    void begin_writing();
    // Clean stop, after the last write: publishes the queued notices, then closes this session
    // (when begin_writing() opened one).
    // Throws db::DbError (the session then stays open: the next start-up reads the collection).
    void stop_writing_cleanly();
    // Stores the catalog read by the last full load as the snapshot the next start-up reads
    // (once; a no-op when there is nothing new). Only the writer instance calls it.
    // `sole_writer` (it holds the writer lease, so every other session has ended and its writes
    // are in that load): the stored snapshot covers them, so their open sessions are closed.
    void write_pending_snapshot(bool sole_writer = false);
    bool is_loaded() const noexcept { return loaded_.load(); }
    // Whether the last load() took the products from the snapshot (for the log and tests).
    bool loaded_from_snapshot() const noexcept { return loaded_from_snapshot_.load(); }
    // Publishes what this instance wrote, then applies what the others wrote.
    void sync_once();
    // Publishes the queued notices now (the CLI commands call it before they exit).
    void publish_pending();
    // Starts / stops the sync thread (which syncs only once load() has succeeded).
    void start();
    void stop();
    // Maintenance: old batches and expired revocations.
    void purge(std::int64_t now_ms);
    // Catalog size and age, revocations and cached users, for GET /metrics.
    void render_metrics(std::string& out) const;

    // models::WriteListener
    void product_saved(const models::Product& product) override;
    void product_removed(std::string_view product_id) override;
    void stock_moved(std::string_view product_id, std::int64_t delta) override;
    void category_saved(const models::Category& category) override;
    void category_removed(std::string_view category_id) override;
    void catalog_replaced() override;
    void user_saved(std::string_view user_id, std::string_view role,
                    std::int64_t updated_at_ms) override;
    void token_revoked(std::string_view token_id, std::int64_t expires_at_ms) override;

    // AccountDirectory (the token check)
    bool is_revoked(const std::string& token_id) override;
    std::optional<std::string> current_role(const std::string& user_id) override;

  private:
    void enqueue(char kind, std::string_view id, std::int64_t expires_at_ms = 0);
    void apply(const models::ChangeBatch& batch);
    void reload_product(const std::string& id);
    void reload_category(const std::string& id);
    void reload_user(const std::string& id);
    void reload_catalog();
    // load()'s fast path: the snapshot and the batches after it, when both are usable.
    bool load_from_snapshot(std::int64_t last_seq);
    void reload_everything();
    void run();

    db::Db& db_;
    ChangeFeedStores stores_;
    CatalogReadModel& catalog_;
    AccessCache& access_;
    ChangeFeedOptions options_;
    const std::string origin_;
    models::CatalogSnapshotStore snapshots_;
    // The products of the last full start-up load, packed, until write_pending_snapshot().
    struct PendingSnapshot {
        std::int64_t seq = 0;
        std::size_t product_count = 0;
        std::vector<std::string> chunks;
    };
    std::mutex snapshot_mutex_;
    std::optional<PendingSnapshot> pending_snapshot_;
    // Set by begin_writing(), under snapshot_mutex_.
    bool writing_ = false;
    bool earlier_writers_stopped_cleanly_ = false;

    std::atomic<bool> loaded_{false};
    std::atomic<bool> loaded_from_snapshot_{false};
    std::atomic<std::int64_t> last_sync_ms_{0};
    std::atomic<std::int64_t> applied_seq_{0};

    std::mutex pending_mutex_;
    std::vector<models::ChangeItem> pending_;
    std::set<std::pair<char, std::string>> pending_keys_;
    std::atomic<bool> catalog_reload_requested_{false};

    // Only the sync thread touches these.
    std::set<std::int64_t> applied_ahead_;  // applied seqs above a missing one
    std::map<std::int64_t, std::chrono::steady_clock::time_point> missing_since_;

    std::mutex thread_mutex_;
    std::condition_variable wakeup_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace flaskcart::services
