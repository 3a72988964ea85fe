#include "services/writer_lease.hpp"

#include <spdlog/spdlog.h>

#include "utils/db.hpp"
#include "utils/time.hpp"

namespace flaskcart::services {

namespace {

constexpr LeaseClock::rep kNever = LeaseClock::time_point::min().time_since_epoch().count();

}  // namespace

WriterLease::WriterLease(models::LeaseStorage& storage, models::LeaseTerm self, LeaseTiming timing)
    : storage_(storage), self_(std::move(self)), timing_(timing) {}

void WriterLease::hold(std::int64_t term, LeaseClock::time_point sent) {
    term_ = term;
    pending_term_.reset();
    writable_until_ = (sent + timing_.write_window).time_since_epoch().count();
}

WriterLease::Claim WriterLease::claim(std::int64_t term, LeaseClock::time_point now) {
    if (pending_term_ != term) {
        pending_term_ = term;
        pending_sent_ = now;
    }
    models::LeaseTerm mine = self_;
    mine.term = term;
    mine.released = false;
    LeaseClock::time_point sent = now;  // this attempt created it, so no earlier one did
    if (storage_.insert(mine) == models::LeaseInsertResult::kTermTaken) {
        // Taken: by an earlier attempt of ours whose reply was lost, or by another instance.
        auto existing = storage_.find(term);
        if (!existing || existing->holder_id != self_.holder_id) {
            pending_term_.reset();
            other_ = existing.value_or(models::LeaseTerm{.term = term, .host = "?"});
            return Claim::kTheirs;
        }
        sent = pending_sent_;
    }
    // A term the holder already pruned can be inserted again by a process that stalled while
    // others moved on: only a term that is still the latest counts.
    if (auto latest = storage_.latest(); latest && latest->term > term) {
        pending_term_.reset();
        other_ = *latest;
        return Claim::kTheirs;
    }
    hold(term, sent);
    return Claim::kMine;
}

WriterLease::Acquire WriterLease::try_acquire(LeaseClock::time_point now) {
    const auto latest = storage_.latest();
    if (latest && latest->holder_id == self_.holder_id && !latest->released) {
        // An earlier claim of ours landed although its reply was lost.
        // Unknown send time: no writes until the next renewal confirms the lease.
        hold(latest->term,
             pending_term_ == latest->term ? pending_sent_ : LeaseClock::time_point::min());
        return Acquire::kClaimed;
    }
    const bool free = !latest || latest->released;
    const bool expired =
        latest && observed_term_ == latest->term && now - first_seen_ >= timing_.lease_time;
    if (free || expired) {
        const std::int64_t next = latest ? latest->term + 1 : 1;
        if (expired) {
            spdlog::warn("writer lease term {} of {} was not renewed for {} ms: taking it over",
                         latest->term, describe_holder(*latest), timing_.lease_time.count());
        }
        return claim(next, now) == Claim::kMine ? Acquire::kClaimed : Acquire::kHeldByOther;
    }
    if (!observed_term_) {
        observed_term_ = latest->term;
        first_seen_ = now;
        return Acquire::kWait;
    }
    if (*observed_term_ != latest->term) {
        other_ = *latest;  // renewed (or claimed) while we watched: a live holder
        return Acquire::kHeldByOther;
    }
    return Acquire::kWait;
}

WriterLease::Renewal WriterLease::renew(LeaseClock::time_point now) {
    try {
        if (claim(term_ + 1, now) == Claim::kTheirs) {
            writable_until_ = kNever;
            return Renewal::kLost;
        }
    } catch (const db::DbError& error) {
        spdlog::warn("writer lease renewal failed (writes stop {} ms after the last renewal): {}",
                     timing_.write_window.count(), error.what());
        return Renewal::kRetry;
    }
    try {
        storage_.prune_below(term_ - 1);
    } catch (const db::DbError& error) {
        spdlog::debug("pruning old writer lease terms failed: {}", error.what());
    }
    return Renewal::kRenewed;
}

bool WriterLease::release() {
    writable_until_ = kNever;
    if (term_ == 0) return true;
    models::LeaseTerm released = self_;
    released.released = true;
    // A renewal whose reply was lost may have taken term_ + 1 already: then release after it.
    for (std::int64_t term = term_ + 1; term <= term_ + 2; ++term) {
        released.term = term;
        try {
            if (storage_.insert(released) == models::LeaseInsertResult::kInserted) return true;
            auto existing = storage_.find(term);
            if (!existing || existing->holder_id != self_.holder_id) return true;  // not ours
        } catch (const db::DbError& error) {
            spdlog::warn("could not release the writer lease (a successor waits up to {} ms): {}",
                         timing_.lease_time.count(), error.what());
            return false;
        }
    }
    return false;
}

WriterRole::WriterRole(std::function<models::ServerKind()> detect_server,
                       models::LeaseStorage& storage, models::LeaseTerm self, LeaseTiming timing,
                       bool read_only)
    : detect_server_(std::move(detect_server)),
      lease_(storage, std::move(self), timing),
      state_(read_only ? State::kReadOnly : State::kUndecided) {}

std::chrono::milliseconds WriterRole::step(LeaseClock::time_point now) {
    const LeaseTiming& timing = lease_.timing();
    reached_database_ = false;
    try {
        switch (state_.load()) {
            case State::kUndecided:
                if (detect_server_() == models::ServerKind::kAtomicUpdates) {
                    reached_database_ = true;
                    spdlog::info("the database makes conditional updates atomic: no writer lease");
                    state_ = State::kUnrestricted;
                    return timing.renew_interval;
                }
                spdlog::info(
                    "FerretDB detected: taking the writer lease (one writer per database)");
                state_ = State::kAcquiring;
                [[fallthrough]];
            case State::kAcquiring:
                switch (lease_.try_acquire(now)) {
                    case WriterLease::Acquire::kClaimed:
                        spdlog::info("writer lease taken (term {})", lease_.term());
                        state_ = State::kWriter;
                        break;
                    case WriterLease::Acquire::kHeldByOther:
                        state_ = State::kRefused;
                        break;
                    case WriterLease::Acquire::kWait:
                        break;
                }
                reached_database_ = true;
                return state_ == State::kAcquiring ? timing.poll_interval : timing.renew_interval;
            case State::kWriter:
                switch (lease_.renew(now)) {
                    case WriterLease::Renewal::kRenewed:
                        reached_database_ = true;
                        return timing.renew_interval;
                    case WriterLease::Renewal::kLost:
                        reached_database_ = true;
                        state_ = State::kLost;
                        return timing.renew_interval;
                    case WriterLease::Renewal::kRetry:
                        return timing.poll_interval;
                }
                break;
            case State::kUnrestricted:
            case State::kReadOnly:
            case State::kRefused:
            case State::kLost:
            case State::kReleased:
                break;
        }
    } catch (const db::DbError& error) {
        spdlog::debug("writer role: database not reachable yet: {}", error.what());
        return timing.poll_interval;
    }
    return timing.renew_interval;
}

WriteRefusal WriterRole::refusal(LeaseClock::time_point now) const noexcept {
    switch (state_.load()) {
        case State::kUnrestricted:
            return WriteRefusal::kNone;
        case State::kReadOnly:
            return WriteRefusal::kReadOnly;
        case State::kWriter:
            return lease_.can_write(now) ? WriteRefusal::kNone : WriteRefusal::kLeaseNotHeld;
        case State::kUndecided:
        case State::kAcquiring:
            return WriteRefusal::kNotYetWriter;
        case State::kRefused:
        case State::kLost:
        case State::kReleased:
            return WriteRefusal::kLeaseNotHeld;
    }
    return WriteRefusal::kLeaseNotHeld;
}

void WriterRole::release() {
    if (state_ != State::kWriter) return;
    state_ = State::kReleased;  // no write from here on, whatever the release's outcome
    if (lease_.release()) spdlog::info("writer lease released");
}

bool changes_data(std::string_view method, std::string_view path) noexcept {
    if (method == "GET" || method == "HEAD") return false;
    return !(method == "POST" && path == "/login");
}

std::string describe_holder(const models::LeaseTerm& holder) {
    return "host " + holder.host + ", pid " + std::to_string(holder.pid) + ", started at " +
           time_format::iso8601_utc(holder.started_at_ms);
}

}  // namespace flaskcart::services
