// Sans-I/O pipelining of IMAP commands (RFC 3501 §5.5): tags, write order, the cap on commands in flight,
// continuation gating for synchronizing literals and SASL steps, coalesced and partial writes, and tag
// correlation of completions. No sockets: the connection's writer asks prepare_write() for bytes, writes some,
// and reports commit_write(n); its reader reports "+" with on_continuation() and tagged lines with
// on_tagged(). Scripted tests drive it byte by byte (tests/protocol/imap/pipeline_queue_test.cpp).
//
// The rules (after isync's cmd_sendable(), kept in one place, can_start()):
//  * commands are written in the order pushed; a command is written completely before the next one starts,
//    so "only the last command in flight can require a continuation" (isync drv_imap.c) holds by construction;
//  * a piece marked await_continuation is not sent until the server's "+" arrives; nothing after it is sent;
//  * at most max_in_flight commands are written-but-unanswered; later ones wait;
//  * a tag the queue has not sent (or already completed) is a fatal protocol error for the caller.
// Calling order on the writer side: prepare_write() -> write some of those bytes -> commit_write(n) -> ...
// The view from prepare_write() stays valid until the next commit_write() or clear(): push() and on_tagged()
// may run while a write of it is in progress (a command answered before its bytes are written stays queued).
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arrival::imap {

// One piece of a command's bytes. A command is a sequence of pieces; a synchronizing literal is two pieces
// where the second has await_continuation set.
struct command_piece {
    std::string owned;             // text the queue keeps (command words, literal headers, CRLF)
    std::string_view borrowed;     // bytes the caller keeps alive until the command completes (message bodies)
    bool await_continuation = false;  // the server's "+" must arrive before this piece is sent

    static command_piece text(std::string s, bool wait = false) { return {std::move(s), {}, wait}; }
    static command_piece view(std::string_view v, bool wait = false) { return {{}, v, wait}; }
    [[nodiscard]] std::string_view bytes() const noexcept { return owned.empty() ? borrowed : std::string_view(owned); }
};

using command_id = std::uint64_t;

class operation;  // client_fsm.hpp: the client operation a command belongs to

// What the client attaches to a queued command, so the queue is the one table of commands in flight: the
// operation that submitted it and which of that operation's commands it is. Opaque to the queue.
struct command_owner {
    operation* op = nullptr;
    std::uint32_t slot = 0;
};

class pipeline_queue {
public:
    struct limits {
        std::size_t max_in_flight = 128;       // written but not yet answered (isync's PipelineDepth)
        std::size_t coalesce_bytes = 64 * 1024;  // small pieces are copied into one write up to this size;
                                                 // larger pieces are written from the caller's memory
    };

    pipeline_queue() : pipeline_queue(limits{}) {}
    explicit pipeline_queue(limits l) : limits_(l) {}

    // Queues a command. The tag ("A00001", "A00002", ... wider after 99999) and a space are prepended to the
    // first piece, which must be owned text. Returns the id used by on_tagged().
    command_id push(std::vector<command_piece> pieces, command_owner owner = {});

    [[nodiscard]] std::string tag_of(command_id id) const;

    // Writer side. Empty when nothing may be written now (queue empty, waiting for "+", or cap reached).
    [[nodiscard]] std::string_view prepare_write();
    // Whether prepare_write() would give bytes now, without handing any out (the driver wakes an idle writer
    // only then).
    [[nodiscard]] bool has_output() const noexcept;
    void commit_write(std::size_t n);

    // Reader side. on_continuation() returns false when no command is waiting for "+" (a protocol error).
    [[nodiscard]] bool on_continuation() noexcept;
    // Completes the command with this tag and returns its id; nullopt when the tag is unknown (never handed to
    // the writer, already completed, or not ours): the caller must treat that as fatal (isync: "unexpected tag").
    // A command counts as sent once prepare_write() has handed out its first bytes, before commit_write(): the
    // server may answer bytes the writer has written but not yet reported (the reader can run first).
    // `owner` (when given) receives what push() attached. `still_writing` (when given) is set when the command
    // has bytes left that the server is bound to read (a non-synchronizing literal, the rest of a MULTIAPPEND):
    // they are still written, from the caller's memory, and take_finished() names the command once they are.
    [[nodiscard]] std::optional<command_id> on_tagged(std::string_view tag, command_owner* owner = nullptr,
                                                      bool* still_writing = nullptr);
    // Commands answered while still writing whose last byte has since been committed (or whose rest, behind a
    // continuation that will never come, was dropped), oldest first; each is named once.
    [[nodiscard]] std::vector<command_owner> take_finished();

    // Calls f(owner) for every command not yet answered (queued ones too), oldest first, until f returns true.
    // Untagged responses are routed this way: servers answer pipelined commands in order.
    template <class F>
    bool visit_unanswered(F&& f) const {
        for (const auto& e : entries_) {
            if (e.st != state::done && !e.answered && f(e.owner)) return true;
        }
        return false;
    }

    // Calls f(owner) for every command not finished (answered ones still writing too), oldest first.
    template <class F>
    void visit_pending(F&& f) const {
        for (const auto& e : entries_) {
            if (e.st != state::done) f(e.owner);
        }
    }

    // True while some command waits for a "+" that has not arrived.
    [[nodiscard]] bool awaiting_continuation() const noexcept;
    [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_; }  // started, not answered
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }  // not answered (incl. queued)
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

    // Drops every command (connection lost) and returns their ids, oldest first, so the caller can fail them.
    std::vector<command_id> clear();

private:
    enum class state : std::uint8_t { queued, writing, waiting_continuation, written, done };
    struct entry {
        command_id id = 0;        // also the tag's number
        command_owner owner;
        std::vector<command_piece> pieces;
        std::size_t piece = 0;    // next piece to send
        std::size_t offset = 0;   // bytes of pieces[piece] already committed
        state st = state::queued;
        bool continued = false;   // the "+" for pieces[piece] has arrived
        bool answered = false;    // tagged response arrived before all pieces were written
    };
    // A run of bytes copied into staging_, and where it came from.
    struct segment {
        command_id id;
        std::size_t piece;
        std::size_t length;
    };

    entry* find(command_id id) noexcept;
    const entry* find(command_id id) const noexcept;
    [[nodiscard]] bool can_start(const entry& e) const noexcept;
    void advance(entry& e, std::size_t n);
    void finish_piece(entry& e);
    void pop_done();
    void reset_staging();   // nothing staged, no segment, no direct piece

    limits limits_;
    std::deque<entry> entries_;
    std::size_t write_cursor_ = 0;  // index in entries_ of the first command not completely written
    std::size_t in_flight_ = 0;
    command_id next_id_ = 1;
    std::string staging_;           // coalesced bytes of small pieces
    std::size_t staging_sent_ = 0;  // prefix of staging_ already committed
    std::vector<segment> segments_;
    std::vector<command_owner> finished_;  // answered while writing, now written (take_finished())
    std::size_t segment_index_ = 0;  // first segment not completely committed
    std::size_t segment_sent_ = 0;   // bytes of segments_[segment_index_] already committed
    bool direct_ = false;           // the last prepare_write() returned a caller's piece directly
    command_id direct_id_ = 0;
};

}  // namespace arrival::imap
