#include "services/change_feed.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include "models/category_model.hpp"
#include "models/product_model.hpp"
#include "models/user_model.hpp"
#include "utils/crypto.hpp"
#include "utils/db.hpp"

namespace flaskcart::services {

namespace {

constexpr std::size_t kMaxItemsPerBatch = 500;
// Further behind than this, a full reload is cheaper than replaying.
constexpr std::int64_t kMaxReplay = 10'000;
// A snapshot followed by more changed items than this: loading the collection is cheaper than
// re-reading each of them by _id.
constexpr std::size_t kMaxSnapshotReplayItems = 2'000;

}  // namespace

ChangeFeed::ChangeFeed(db::Db& db, ChangeFeedStores stores, CatalogReadModel& catalog,
                       AccessCache& access, ChangeFeedOptions options)
    : db_(db),
      stores_(stores),
      catalog_(catalog),
      access_(access),
      options_(options),
      origin_(crypto::random_hex(8)),
      snapshots_(db) {}

ChangeFeed::~ChangeFeed() {
    stop();
}

// --- loading and syncing ----------------------------------------------------------------------

void ChangeFeed::reload_catalog() {
    auto products = stores_.products.list_all();
    auto categories = stores_.categories.list();
    catalog_.replace_all(std::move(products), std::move(categories));
}

void ChangeFeed::reload_everything() {
    reload_catalog();
    access_.replace_revocations(stores_.revoked_tokens.list_unexpired(db::now_ms()));
    access_.forget_all_users();
}

void ChangeFeed::load(bool use_snapshot) {
    // The counter first: whatever is published while the rest loads is replayed afterwards.
    const std::int64_t seq = stores_.changes.last_seq();
    const auto started = std::chrono::steady_clock::now();
    bool trust_snapshot = false;
    if (use_snapshot) {
        begin_writing();
        std::lock_guard lock(snapshot_mutex_);
        trust_snapshot = earlier_writers_stopped_cleanly_;
    }
    const bool from_snapshot = trust_snapshot && load_from_snapshot(seq);
    loaded_from_snapshot_ = from_snapshot;
    if (!from_snapshot) {
        auto products = stores_.products.list_all();
        PendingSnapshot pending{seq, products.size(), models::pack_products(products)};
        catalog_.replace_all(std::move(products), stores_.categories.list());
        access_.replace_revocations(stores_.revoked_tokens.list_unexpired(db::now_ms()));
        access_.forget_all_users();
        std::lock_guard lock(snapshot_mutex_);
        pending_snapshot_ = std::move(pending);
    }
    applied_seq_ = seq;
    last_sync_ms_ = db::now_ms();
    loaded_ = true;
    // The load's transient buffers (database replies, the snapshot's chunks) were freed; give
    // the memory back rather than keep the peak as resident size.
    malloc_trim(0);
    spdlog::info(
        "read models loaded in {} ms (products from the {}): {} products, {} categories, {} "
        "revoked tokens",
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                              started)
            .count(),
        from_snapshot ? "snapshot" : "collection", catalog_.product_count(),
        catalog_.category_count(), access_.revocation_count());
}

bool ChangeFeed::load_from_snapshot(std::int64_t last_seq) {
    auto snapshot = snapshots_.read();
    if (!snapshot || snapshot->seq > last_seq) return false;
    // Every batch after the snapshot must still be there (none purged, none being written).
    const auto batches = stores_.changes.read(snapshot->seq, last_seq);
    if (static_cast<std::int64_t>(batches.size()) != last_seq - snapshot->seq) return false;
    std::size_t items = 0;
    for (const auto& batch : batches) items += batch.items.size();
    if (items > kMaxSnapshotReplayItems) return false;
    catalog_.replace_all(std::move(snapshot->products), stores_.categories.list());
    access_.replace_revocations(stores_.revoked_tokens.list_unexpired(db::now_ms()));
    access_.forget_all_users();
    for (const auto& batch : batches) apply(batch);
    return true;
}

void ChangeFeed::begin_writing() {
    std::lock_guard lock(snapshot_mutex_);
    if (writing_) return;
    const bool clean = snapshots_.count_writer_sessions_except(origin_) == 0;
    snapshots_.open_writer_session(origin_);
    earlier_writers_stopped_cleanly_ = clean;
    writing_ = true;
    if (!clean) {
        spdlog::warn(
            "an earlier writer did not stop cleanly (its last changes may be unpublished): the "
            "products are read from the collection, not the catalog snapshot");
    }
}

void ChangeFeed::stop_writing_cleanly() {
    publish_pending();
    std::lock_guard lock(snapshot_mutex_);
    if (!writing_) return;
    snapshots_.close_writer_session(origin_);
    writing_ = false;
}

void ChangeFeed::write_pending_snapshot(bool sole_writer) {
    std::optional<PendingSnapshot> pending;
    {
        std::lock_guard lock(snapshot_mutex_);
        pending.swap(pending_snapshot_);
    }
    if (!pending) return;
    const auto started = std::chrono::steady_clock::now();
    try {
        snapshots_.write(pending->seq, pending->chunks, pending->product_count);
    } catch (const db::DbError& error) {
        // Only a slower next start-up is lost: it loads the collection and tries again.
        spdlog::warn("catalog snapshot not stored: {}", error.what());
        return;
    }
    if (sole_writer) {
        try {
            snapshots_.close_writer_sessions_except(origin_);
        } catch (const db::DbError& error) {
            spdlog::warn("earlier writer sessions not closed: {}", error.what());
        }
    }
    spdlog::info("catalog snapshot stored in {} ms: {} products at change {}",
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count(),
                 pending->product_count, pending->seq);
}

void ChangeFeed::publish_pending() {
    std::vector<models::ChangeItem> items;
    {
        std::lock_guard lock(pending_mutex_);
        items.swap(pending_);
        pending_keys_.clear();
    }
    for (std::size_t start = 0; start < items.size(); start += kMaxItemsPerBatch) {
        const std::size_t end = std::min(items.size(), start + kMaxItemsPerBatch);
        try {
            stores_.changes.publish(
                origin_, std::vector<models::ChangeItem>(items.begin() + static_cast<long>(start),
                                                         items.begin() + static_cast<long>(end)));
        } catch (...) {
            // Not published: queue the rest again for the next round.
            std::lock_guard lock(pending_mutex_);
            for (std::size_t i = start; i < items.size(); ++i) {
                if (pending_keys_.emplace(items[i].kind, items[i].id).second) {
                    pending_.push_back(items[i]);
                }
            }
            throw;
        }
    }
}

void ChangeFeed::sync_once() {
    publish_pending();
    if (catalog_reload_requested_.exchange(false)) reload_catalog();
    const std::int64_t last = stores_.changes.last_seq();
    const auto now = std::chrono::steady_clock::now();
    std::int64_t applied = applied_seq_.load();
    if (last - applied > kMaxReplay) {
        spdlog::warn("change feed: {} batches behind; reloading everything", last - applied);
        reload_everything();
        applied_ahead_.clear();
        missing_since_.clear();
        applied_seq_ = last;
        last_sync_ms_ = db::now_ms();
        return;
    }
    if (last > applied) {
        const auto batches = stores_.changes.read(applied, last);
        std::map<std::int64_t, const models::ChangeBatch*> by_seq;
        for (const auto& batch : batches) by_seq.emplace(batch.seq, &batch);
        bool has_lost_batch = false;
        for (std::int64_t seq = applied + 1; seq <= last; ++seq) {
            auto found = by_seq.find(seq);
            if (found != by_seq.end()) {
                if (applied_ahead_.insert(seq).second) apply(*found->second);
                missing_since_.erase(seq);
                continue;
            }
            const auto since = missing_since_.try_emplace(seq, now).first->second;
            if (now - since > options_.gap_timeout) has_lost_batch = true;
        }
        if (has_lost_batch) {
            spdlog::warn("change feed: a batch stayed missing for {} ms; reloading everything",
                         options_.gap_timeout.count());
            reload_everything();
            applied_ahead_.clear();
            missing_since_.clear();
            applied = last;
        }
        while (applied_ahead_.erase(applied + 1) > 0) ++applied;
        applied_seq_ = applied;
    }
    last_sync_ms_ = db::now_ms();
}

void ChangeFeed::apply(const models::ChangeBatch& batch) {
    // This instance applied its own writes when it made them.
    if (batch.origin == origin_) return;
    for (const auto& item : batch.items) {
        switch (item.kind) {
            case 'p':
                reload_product(item.id);
                break;
            case 'c':
                reload_category(item.id);
                break;
            case 'u':
                reload_user(item.id);
                break;
            case 't':
                access_.revoke(item.id, item.expires_at_ms);
                break;
            case 'a':
                reload_catalog();
                break;
            default:
                spdlog::warn("change feed: unknown change kind '{}' ignored", item.kind);
                break;
        }
    }
}

void ChangeFeed::reload_product(const std::string& id) {
    const auto oid = db::parse_oid(id);
    if (!oid) return;
    // Under the document's lock, so a write of this instance cannot land between the read and
    // the model update (its own model update would then be overwritten by an older state).
    auto guard = db_.lock_document_for_reading("products", *oid);
    if (auto product = stores_.products.find_by_id(id)) {
        catalog_.upsert_product(*product);
    } else {
        catalog_.remove_product(id);
    }
}

void ChangeFeed::reload_category(const std::string& id) {
    const auto oid = db::parse_oid(id);
    if (!oid) return;
    auto guard = db_.lock_document_for_reading("categories", *oid);
    if (auto category = stores_.categories.find_by_id(id)) {
        catalog_.upsert_category(*category);
    } else {
        catalog_.remove_category(id);
    }
}

void ChangeFeed::reload_user(const std::string& id) {
    if (auto user = stores_.users.find_by_id(id)) {
        access_.remember_user(user->id, user->role, user->updated_at_ms,
                              std::chrono::steady_clock::now());
    } else {
        access_.forget_user(id);
    }
}

void ChangeFeed::purge(std::int64_t now_ms) {
    access_.purge_expired(now_ms);
    const auto cutoff =
        now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count();
    if (const auto purged = stores_.changes.purge_older_than(cutoff); purged > 0) {
        spdlog::debug("change feed: purged {} old batches", purged);
    }
}

void ChangeFeed::run() {
    std::unique_lock lock(thread_mutex_);
    auto last_warning = std::chrono::steady_clock::time_point();
    while (!stopping_) {
        lock.unlock();
        if (loaded_) {
            try {
                sync_once();
            } catch (const std::exception& error) {
                // One line per 10 s at most while the database is away.
                const auto now = std::chrono::steady_clock::now();
                if (now - last_warning > std::chrono::seconds(10)) {
                    spdlog::warn("change feed sync failed (will retry): {}", error.what());
                    last_warning = now;
                }
            }
        }
        lock.lock();
        wakeup_.wait_for(lock, options_.interval, [this] { return stopping_; });
    }
}

void ChangeFeed::start() {
    std::lock_guard lock(thread_mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void ChangeFeed::stop() {
    {
        std::lock_guard lock(thread_mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void ChangeFeed::render_metrics(std::string& out) const {
    const double age_seconds =
        is_loaded() ? static_cast<double>(db::now_ms() - last_sync_ms_.load()) / 1000.0 : -1.0;
    out +=
        "# HELP flaskcart_catalog_products Products in the in-memory catalog.\n"
        "# TYPE flaskcart_catalog_products gauge\nflaskcart_catalog_products " +
        std::to_string(catalog_.product_count()) + "\n";
    out +=
        "# HELP flaskcart_catalog_categories Categories in the in-memory catalog.\n"
        "# TYPE flaskcart_catalog_categories gauge\nflaskcart_catalog_categories " +
        std::to_string(catalog_.category_count()) + "\n";
    out +=
        "# HELP flaskcart_catalog_age_seconds Time since the read models were last confirmed "
        "current with the database (-1 before the first load).\n"
        "# TYPE flaskcart_catalog_age_seconds gauge\nflaskcart_catalog_age_seconds " +
        std::to_string(age_seconds) + "\n";
    out +=
        "# HELP flaskcart_change_feed_seq Last change batch applied.\n"
        "# TYPE flaskcart_change_feed_seq gauge\nflaskcart_change_feed_seq " +
        std::to_string(applied_seq_.load()) + "\n";
    out +=
        "# HELP flaskcart_revoked_tokens Revoked, unexpired tokens held in memory.\n"
        "# TYPE flaskcart_revoked_tokens gauge\nflaskcart_revoked_tokens " +
        std::to_string(access_.revocation_count()) + "\n";
    out +=
        "# HELP flaskcart_cached_users Users whose role is held in memory.\n"
        "# TYPE flaskcart_cached_users gauge\nflaskcart_cached_users " +
        std::to_string(access_.user_count()) + "\n";
}

// --- writes of this instance -----------------------------------------------------------------

void ChangeFeed::enqueue(char kind, std::string_view id, std::int64_t expires_at_ms) {
    std::lock_guard lock(pending_mutex_);
    if (pending_keys_.emplace(kind, std::string(id)).second) {
        pending_.push_back({kind, std::string(id), expires_at_ms});
    }
}

void ChangeFeed::product_saved(const models::Product& product) {
    catalog_.upsert_product(product);
    enqueue('p', product.id);
}

void ChangeFeed::product_removed(std::string_view product_id) {
    catalog_.remove_product(product_id);
    enqueue('p', product_id);
}

void ChangeFeed::stock_moved(std::string_view product_id, std::int64_t delta) {
    catalog_.adjust_stock(product_id, delta);
    enqueue('p', product_id);
}

void ChangeFeed::category_saved(const models::Category& category) {
    catalog_.upsert_category(category);
    enqueue('c', category.id);
}

void ChangeFeed::category_removed(std::string_view category_id) {
    catalog_.remove_category(category_id);
    enqueue('c', category_id);
}

void ChangeFeed::catalog_replaced() {
    catalog_reload_requested_ = true;
    enqueue('a', "");
}

void ChangeFeed::user_saved(std::string_view user_id, std::string_view role,
                            std::int64_t updated_at_ms) {
    access_.user_written(user_id, role, updated_at_ms, std::chrono::steady_clock::now());
    enqueue('u', user_id);
}

void ChangeFeed::token_revoked(std::string_view token_id, std::int64_t expires_at_ms) {
    access_.revoke(token_id, expires_at_ms);
    enqueue('t', token_id, expires_at_ms);
}

// --- the token check --------------------------------------------------------------------------

bool ChangeFeed::is_revoked(const std::string& token_id) {
    if (!loaded_) return stores_.revoked_tokens.is_revoked(token_id);
    return access_.is_revoked(token_id);
}

std::optional<std::string> ChangeFeed::current_role(const std::string& user_id) {
    const auto now = std::chrono::steady_clock::now();
    if (auto role = access_.role_of(user_id, now)) return role;
    auto user = stores_.users.find_by_id(user_id);
    if (!user) return std::nullopt;
    access_.remember_user(user->id, user->role, user->updated_at_ms, now);
    return user->role;
}

}  // namespace flaskcart::services
