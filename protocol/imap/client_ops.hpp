// The client's operations, each an algorithm over client_fsm (see client_fsm.hpp for the calling order): it
// encodes its commands, takes the untagged responses routed to it, and on each resume() says what comes next.
// connection.cpp wraps each in one async_* call; tests/protocol/imap/client_fsm_test.cpp scripts each on bytes.
//
// Results are owned values in the operation (`out`), final once done(). Borrowed arguments (mailbox names,
// message bodies, the fetch sink, credentials) must outlive the operation.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/imap/client_fsm.hpp"
#include "protocol/imap/client_values.hpp"
#include "protocol/imap/resp_code.hpp"
#include "protocol/imap/sequence_set.hpp"
#include "protocol/imap/url.hpp"

namespace arrival::imap {

// Greeting, CAPABILITY when the greeting had none, STARTTLS per url.tls (a tls_handshake action, then the
// capabilities learned in plaintext are forgotten, RFC 3501 §6.2.1), CAPABILITY again. imaps:// asks for the
// handshake first. A failure here is fatal for the connection (the driver closes it).
class connect_op final : public operation {
public:
    explicit connect_op(imap_url url) : url_(std::move(url)) {}

private:
    action resume(client_fsm& c, error_code ec) override;
    action after_capabilities(client_fsm& c);
    action finish(client_fsm& c);
    enum class state : std::uint8_t { start, implicit_tls, greeting, capability, starttls, starttls_tls, final_capability };
    state st_ = state::start;
    imap_url url_;
};

// LOGIN, Dovecot's master form (LOGIN "user*admin"), or AUTHENTICATE PLAIN (SASL-IR when offered, authzid when
// an admin acts for the user); then CAPABILITY unless the reply carried [CAPABILITY]. A NO without an RFC 5530
// code is errc::authentication_failed; LOGIN under LOGINDISABLED is refused before sending (tls_required).
class login_op final : public operation {
public:
    explicit login_op(const credentials& cred) : cred_(cred) {}

private:
    action resume(client_fsm& c, error_code ec) override;
    enum class state : std::uint8_t { start, sent, capability };
    state st_ = state::start;
    const credentials& cred_;
    std::vector<std::string> caps_before_;
};

// One command, no untagged data of interest: CAPABILITY, NOOP, LOGOUT, CREATE, SUBSCRIBE, ...
// The command is encoded by the caller (encode_* functions); an encoding error is passed instead.
class simple_op : public operation {
public:
    explicit simple_op(command cmd) : cmd_(std::move(cmd)) {}
    simple_op(error_code encode_error, diagnostics encode_diag)
        : encode_error_(encode_error), encode_diag_(std::move(encode_diag)) {}

protected:
    action resume(client_fsm& c, error_code ec) override;
    // After the tagged reply (ec its result), before completion.
    virtual error_code on_reply(client_fsm& /*c*/, error_code ec) { return ec; }
    error_code decode_error_;  // set by subclasses when an untagged response could not be decoded

private:
    command cmd_;
    error_code encode_error_;
    diagnostics encode_diag_;
    bool sent_ = false;
};

class id_op final : public simple_op {
public:
    using simple_op::simple_op;
    std::vector<std::pair<std::string, std::string>> out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
};

class namespace_op final : public simple_op {
public:
    namespace_op() : simple_op(encode_simple("NAMESPACE")) {}
    namespace_info out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
};

// LIST, or LSUB (lsub = true: every entry subscribed). With list_then_lsub, a LIST without LIST-EXTENDED is
// followed by an LSUB of the same pattern that marks the subscribed entries.
class list_op final : public operation {
public:
    list_op(std::string_view reference, std::string_view pattern, bool lsub)
        : reference_(reference), pattern_(pattern), lsub_only_(lsub) {}
    std::vector<mailbox_info> out;

private:
    action resume(client_fsm& c, error_code ec) override;
    bool on_untagged(const response& r, std::uint32_t slot) override;
    enum class state : std::uint8_t { start, list, lsub };
    state st_ = state::start;
    std::string_view reference_, pattern_;
    bool lsub_only_;
    std::vector<std::string> subscribed_;  // raw names from the LSUB after a LIST
    error_code dec_;
};

// ENABLE (RFC 5161): out is what the server's ENABLED response names; the session remembers it.
class enable_op final : public simple_op {
public:
    using simple_op::simple_op;
    std::vector<std::string> out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
    error_code on_reply(client_fsm& c, error_code ec) override;
};

class status_op final : public simple_op {
public:
    using simple_op::simple_op;
    mailbox_status out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
};

// RFC 4314 GETACL, MYRIGHTS, LISTRIGHTS (encoded by protocol/imap/acl.hpp): out is what the untagged reply says.
class getacl_op final : public simple_op {
public:
    using simple_op::simple_op;
    std::vector<acl_grant> out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
};

class myrights_op final : public simple_op {
public:
    using simple_op::simple_op;
    std::string out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
};

class listrights_op final : public simple_op {
public:
    using simple_op::simple_op;
    listrights_info out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
};

// SELECT / EXAMINE: EXISTS, FLAGS, [PERMANENTFLAGS], [UIDVALIDITY], [UIDNEXT], [HIGHESTMODSEQ], [READ-ONLY]; the
// session follows (RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected).
class select_op final : public simple_op {
public:
    select_op(std::string_view mailbox, bool read_only, command cmd)
        : simple_op(std::move(cmd)), mailbox_(mailbox) {
        out.read_only = read_only;
    }
    using simple_op::simple_op;
    select_info out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
    void on_tagged(const response& r, std::uint32_t slot) override;
    error_code on_reply(client_fsm& c, error_code ec) override;
    std::string_view mailbox_;
};

// UID SEARCH: SEARCH or ESEARCH ALL, the UIDs ascending.
class search_op final : public simple_op {
public:
    using simple_op::simple_op;
    std::vector<std::uint32_t> out;

private:
    bool on_untagged(const response& r, std::uint32_t slot) override;
    error_code on_reply(client_fsm& c, error_code ec) override;
};

// UID FETCH: records and body chunks stream into `sink` as they are parsed. With `vanished`, the UIDs of
// every VANISHED response while the command runs (RFC 7162: (EARLIER) answers its VANISHED modifier; a plain
// one announces an expunge of now) are appended there.
class fetch_op final : public simple_op {
public:
    fetch_op(command cmd, fetch_handler& sink, std::vector<seq_range>* vanished = nullptr)
        : simple_op(std::move(cmd)), sink_(&sink), vanished_(vanished) {}

private:
    fetch_handler* fetch_sink() override { return sink_; }
    fetch_decoder* fetch_dec() override { return &decoder_; }
    bool on_untagged(const response& r, std::uint32_t slot) override;
    fetch_handler* sink_ = nullptr;
    std::vector<seq_range>* vanished_ = nullptr;
    fetch_decoder decoder_;
};

// APPEND: one MULTIAPPEND (RFC 3502) for a batch when offered, else one APPEND per message, all pipelined; the
// first failure decides (out stays empty). out.uids from [APPENDUID] (UIDPLUS), one per message, else empty.
class append_op final : public operation {
public:
    append_op(std::string_view mailbox, std::span<const append_message> messages)
        : mailbox_(mailbox), messages_(messages) {}
    append_result out;

private:
    action resume(client_fsm& c, error_code ec) override;
    void on_tagged(const response& r, std::uint32_t slot) override;
    std::string_view mailbox_;
    std::span<const append_message> messages_;
    std::vector<std::pair<bool, appenduid_data>> uids_;  // per command: [APPENDUID] seen and its value
    bool sent_ = false;
};

}  // namespace arrival::imap
