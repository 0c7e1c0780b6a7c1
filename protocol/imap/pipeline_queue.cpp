#include "protocol/imap/pipeline_queue.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace arrival::imap {

namespace {

std::string format_tag(command_id id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "A%05llu", static_cast<unsigned long long>(id));
    return buf;
}

// "A00042" -> 42; anything else -> 0 (never a valid id).
command_id parse_tag(std::string_view tag) noexcept {
    if (tag.size() < 2 || tag.size() > 21 || tag[0] != 'A') return 0;
    command_id v = 0;
    for (char c : tag.substr(1)) {
        if (c < '0' || c > '9') return 0;
        v = v * 10 + static_cast<command_id>(c - '0');
    }
    return v;
}

}  // namespace

command_id pipeline_queue::push(std::vector<command_piece> pieces, command_owner owner) {
    assert(!pieces.empty() && !pieces.front().owned.empty() && !pieces.front().await_continuation);
    // Empty pieces would never be committed; drop them (an empty literal body "{0}" is legal but has no bytes).
    std::erase_if(pieces, [](const command_piece& p) { return p.bytes().empty() && !p.await_continuation; });
    entry e;
    e.id = next_id_++;
    e.owner = owner;
    pieces.front().owned.insert(0, format_tag(e.id) + ' ');
    e.pieces = std::move(pieces);
    entries_.push_back(std::move(e));
    return entries_.back().id;
}

std::string pipeline_queue::tag_of(command_id id) const { return format_tag(id); }

pipeline_queue::entry* pipeline_queue::find(command_id id) noexcept {
    for (auto& e : entries_) {
        if (e.id == id) return &e;
    }
    return nullptr;
}

const pipeline_queue::entry* pipeline_queue::find(command_id id) const noexcept {
    for (const auto& e : entries_) {
        if (e.id == id) return &e;
    }
    return nullptr;
}

bool pipeline_queue::can_start(const entry& e) const noexcept {
    if (e.st != state::queued) return true;
    return in_flight_ < limits_.max_in_flight;
}

void pipeline_queue::reset_staging() {
    staging_.clear();
    staging_sent_ = 0;
    segments_.clear();
    segment_index_ = 0;
    segment_sent_ = 0;
    direct_ = false;
}

std::string_view pipeline_queue::prepare_write() {
    if (staging_sent_ < staging_.size()) return std::string_view(staging_).substr(staging_sent_);
    reset_staging();

    for (std::size_t i = write_cursor_; i < entries_.size(); ++i) {
        entry& e = entries_[i];
        if (e.st == state::waiting_continuation || e.st == state::done) break;
        if (!can_start(e)) break;
        std::size_t k = e.piece;
        std::size_t off = e.offset;
        bool complete = true;  // every remaining piece of e was staged
        bool staged_any = false;
        for (; k < e.pieces.size(); ++k, off = 0) {
            const command_piece& p = e.pieces[k];
            if (p.await_continuation && !(k == e.piece && e.continued)) {
                complete = false;
                break;
            }
            const std::string_view rest = p.bytes().substr(off);
            if (staging_.size() + rest.size() <= limits_.coalesce_bytes) {
                staging_.append(rest);
                segments_.push_back({e.id, k, rest.size()});
                staged_any = true;
                continue;
            }
            if (staging_.empty()) {
                // Large piece (a message body): written straight from the caller's memory, never copied.
                if (e.st == state::queued) {
                    e.st = state::writing;
                    ++in_flight_;
                }
                direct_ = true;
                direct_id_ = e.id;
                return rest;
            }
            complete = false;
            break;
        }
        if (staged_any) {
            if (e.st == state::queued) {
                e.st = state::writing;
                ++in_flight_;
            }
        }
        if (!complete) break;
    }
    return staging_;
}

bool pipeline_queue::has_output() const noexcept {
    if (staging_sent_ < staging_.size()) return true;
    if (write_cursor_ >= entries_.size()) return false;
    // prepare_write() starts at the cursor: a queued command's first piece never waits for "+", and a piece
    // that does puts its command in waiting_continuation.
    const entry& e = entries_[write_cursor_];
    return e.st != state::waiting_continuation && e.st != state::done && can_start(e);
}

void pipeline_queue::commit_write(std::size_t n) {
    if (direct_) {
        direct_ = false;
        if (entry* e = find(direct_id_)) advance(*e, n);
        pop_done();
        return;
    }
    assert(staging_sent_ + n <= staging_.size());
    staging_sent_ += n;
    while (n > 0 && segment_index_ < segments_.size()) {
        const segment& s = segments_[segment_index_];
        const std::size_t take = std::min(n, s.length - segment_sent_);
        if (entry* e = find(s.id)) advance(*e, take);
        n -= take;
        segment_sent_ += take;
        if (segment_sent_ == s.length) {
            ++segment_index_;
            segment_sent_ = 0;
        }
    }
    pop_done();
}

void pipeline_queue::advance(entry& e, std::size_t n) {
    e.offset += n;
    while (e.st != state::done && e.piece < e.pieces.size() && e.offset >= e.pieces[e.piece].bytes().size()) {
        assert(e.offset == e.pieces[e.piece].bytes().size());
        finish_piece(e);
    }
}

void pipeline_queue::finish_piece(entry& e) {
    ++e.piece;
    e.offset = 0;
    e.continued = false;
    const bool all_written = e.piece == e.pieces.size();
    if (all_written || e.pieces[e.piece].await_continuation) {
        if (e.answered) {
            // The server already answered (e.g. NO [OVERQUOTA] during a LITERAL+ MULTIAPPEND): its bytes are
            // written; a rest behind a continuation is never sent (no "+" will come).
            e.st = state::done;
            ++write_cursor_;
            finished_.push_back(e.owner);
            return;
        }
        if (all_written) {
            e.st = state::written;
            ++write_cursor_;
        } else {
            e.st = state::waiting_continuation;
        }
    }
}

bool pipeline_queue::on_continuation() noexcept {
    if (write_cursor_ >= entries_.size()) return false;
    entry& e = entries_[write_cursor_];
    if (e.st != state::waiting_continuation) return false;
    e.st = state::writing;
    e.continued = true;
    return true;
}

bool pipeline_queue::awaiting_continuation() const noexcept {
    return write_cursor_ < entries_.size() && entries_[write_cursor_].st == state::waiting_continuation;
}

std::optional<command_id> pipeline_queue::on_tagged(std::string_view tag, command_owner* owner,
                                                    bool* still_writing) {
    if (still_writing != nullptr) *still_writing = false;
    const command_id id = parse_tag(tag);
    if (id == 0) return std::nullopt;
    entry* e = find(id);
    // Only commands whose first bytes were handed to the writer can be answered, and only once.
    if (e == nullptr || e->st == state::done || e->st == state::queued || e->answered) return std::nullopt;
    --in_flight_;
    if (owner != nullptr) *owner = e->owner;
    switch (e->st) {
        case state::written:
            e->st = state::done;
            break;
        case state::waiting_continuation:
            // Refused before the literal was sent: drop the remaining pieces.
            e->st = state::done;
            ++write_cursor_;
            break;
        default:
            // Still writing bytes the server is bound to read (a non-synchronizing literal), or bytes handed
            // to the writer and not yet committed: they are finished first.
            e->answered = true;
            if (still_writing != nullptr) *still_writing = true;
            break;
    }
    pop_done();
    return id;
}

std::vector<command_owner> pipeline_queue::take_finished() {
    std::vector<command_owner> out;
    out.swap(finished_);
    return out;
}

void pipeline_queue::pop_done() {
    while (!entries_.empty() && entries_.front().st == state::done) {
        entries_.pop_front();
        if (write_cursor_ > 0) --write_cursor_;
    }
}

std::vector<command_id> pipeline_queue::clear() {
    std::vector<command_id> ids;
    for (const auto& e : entries_) {
        if (e.st != state::done) ids.push_back(e.id);
    }
    entries_.clear();
    write_cursor_ = 0;
    in_flight_ = 0;
    reset_staging();
    finished_.clear();
    return ids;
}

}  // namespace arrival::imap
