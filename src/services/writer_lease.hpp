#pragma once
// One writer per FerretDB database. FerretDB v1 does not make a conditional single-document
// update atomic, so FlaskCart serializes such writes inside the process (Db::update_if): correct
// for one process, oversold stock for two. On such a database an instance therefore holds the
// writer lease (models/lease_model.hpp) before it serves writes; on MongoDB nothing is needed.
//
// The protocol, with every decision made by an insert on a unique _id:
// - Claim: insert term n + 1 after the latest term n was released, or after this contender saw
//   term n unchanged for lease_time on its own steady clock (no clock agreement between hosts is
//   assumed). A term that changes while it watches means a live holder: the contender refuses.
// - Renew: the holder inserts term n + 1 every renew_interval. A duplicate that is not its own
//   means a contender took over: the lease is lost.
// - Write window: the holder writes only until write_window after it *sent* its last confirmed
//   renewal. A contender takes over no earlier than lease_time after it first saw that term,
//   which exists only after it was sent; write_window < lease_time leaves the difference for a
//   write already on the wire.
// - Release (clean shutdown): insert term n + 1 marked released; a successor claims at once.

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "models/lease_model.hpp"

namespace flaskcart::services {

using LeaseClock = std::chrono::steady_clock;

struct LeaseTiming {
    std::chrono::milliseconds renew_interval{1000};
    // How long a contender must see one term unchanged before it may take over.
    std::chrono::milliseconds lease_time{5000};
    // How long the holder writes after sending its last confirmed renewal (< lease_time).
    std::chrono::milliseconds write_window{3000};
    // How often a contender looks at the chain.
    std::chrono::milliseconds poll_interval{250};
};

// The lease protocol for one process. try_acquire/renew/release are called from one thread at a
// time; can_write() from any thread.
class WriterLease {
  public:
    WriterLease(models::LeaseStorage& storage, models::LeaseTerm self, LeaseTiming timing);

    enum class Acquire { kClaimed, kHeldByOther, kWait };
    // One look at the chain (and a claim when allowed). Throws db::DbError when the database
    // cannot be reached; call again later, the observation carries on.
    Acquire try_acquire(LeaseClock::time_point now);

    enum class Renewal { kRenewed, kRetry, kLost };
    // One renewal attempt; database failures are kRetry (writes stop when the window closes).
    Renewal renew(LeaseClock::time_point now);

    // Stops writes, then marks the lease released so a successor need not wait. Best effort;
    // returns false when the release could not be written (a successor then waits lease_time).
    bool release();

    bool can_write(LeaseClock::time_point now) const noexcept {
        return now.time_since_epoch().count() < writable_until_.load();
    }
    // The holder that made try_acquire answer kHeldByOther or renew answer kLost.
    const models::LeaseTerm& other_holder() const noexcept { return other_; }
    std::int64_t term() const noexcept { return term_; }
    const LeaseTiming& timing() const noexcept { return timing_; }

  private:
    enum class Claim { kMine, kTheirs };
    // Inserts `term` as this process; kTheirs fills other_. Throws db::DbError (ambiguous).
    Claim claim(std::int64_t term, LeaseClock::time_point now);
    void hold(std::int64_t term, LeaseClock::time_point sent);

    models::LeaseStorage& storage_;
    models::LeaseTerm self_;
    LeaseTiming timing_;
    std::int64_t term_ = 0;  // the term held; 0 when none
    // A claim or renewal whose outcome is unknown (the reply was lost): the term and when its
    // first attempt was sent, the earliest moment the document can have appeared.
    std::optional<std::int64_t> pending_term_;
    LeaseClock::time_point pending_sent_{};
    // What this contender saw first, and when.
    std::optional<std::int64_t> observed_term_;
    LeaseClock::time_point first_seen_{};
    models::LeaseTerm other_;
    std::atomic<LeaseClock::rep> writable_until_{
        LeaseClock::time_point::min().time_since_epoch().count()};
};

// Why a data-changing request is refused right now.
enum class WriteRefusal {
    kNone,
    kReadOnly,      // started with --read-only
    kNotYetWriter,  // on FerretDB, the lease is not (yet) taken: database unreachable so far
    kLeaseNotHeld,  // the holder could not renew in time, or lost the lease
};

// What this instance may write: decided once the database answers, then kept up to date by
// step(). step()/release() from one thread at a time; refusal()/state() from any thread.
class WriterRole {
  public:
    enum class State {
        kUndecided,     // the database has not answered yet
        kAcquiring,     // FerretDB: watching the lease
        kWriter,        // FerretDB: holding the lease
        kUnrestricted,  // atomic conditional updates (MongoDB): no lease
        kReadOnly,
        kRefused,   // FerretDB: another instance holds the lease (other_holder())
        kLost,      // FerretDB: held it, then another instance took it over (other_holder())
        kReleased,  // FerretDB: gave it back on shutdown
    };

    WriterRole(std::function<models::ServerKind()> detect_server, models::LeaseStorage& storage,
               models::LeaseTerm self, LeaseTiming timing, bool read_only);

    // Advances one step; returns how long to wait before the next one.
    std::chrono::milliseconds step(LeaseClock::time_point now);
    // Whether the last step reached the database.
    bool last_step_reached_database() const noexcept { return reached_database_; }
    State state() const noexcept { return state_.load(); }
    WriteRefusal refusal(LeaseClock::time_point now) const noexcept;
    const models::LeaseTerm& other_holder() const noexcept { return lease_.other_holder(); }
    const WriterLease& lease() const noexcept { return lease_; }
    // On clean shutdown, after the last request: gives the lease back (when held).
    void release();

  private:
    std::function<models::ServerKind()> detect_server_;
    WriterLease lease_;
    std::atomic<State> state_;
    bool reached_database_ = false;
};

// True for requests that change data: every method but GET and HEAD, except POST /login (it
// only reads the user and signs a token).
bool changes_data(std::string_view method, std::string_view path) noexcept;

// "host web-1, pid 4242, started at 2026-11-28T08:51:02Z" for error messages.
std::string describe_holder(const models::LeaseTerm& holder);

}  // namespace flaskcart::services
