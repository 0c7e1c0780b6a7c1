// The values the IMAP client takes and returns (credentials, mailboxes, SELECT and APPEND results), apart from
// any I/O so the sans-I/O client (client_fsm.hpp) and the Asio connection (connection.hpp) share them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/imap/list_decoder.hpp"

namespace arrival::imap {

struct credentials {
    enum class method : std::uint8_t {
        automatic,     // LOGIN without admin (AUTHENTICATE PLAIN when LOGINDISABLED); PLAIN+authzid with admin
        login,         // LOGIN user password
        plain,         // AUTHENTICATE PLAIN [authzid=user when admin is set] (SASL-IR when offered)
        master_login,  // LOGIN "user<sep>admin" password: Dovecot's master-user form (auth_master_user_separator)
    };
    std::string user;        // the mailbox owner
    std::string admin;       // empty: log in as `user`; else this administrator/master acts for `user`
    std::string password;    // of `admin` when set, else of `user`. Never logged.
    method how = method::automatic;
    char master_separator = '*';
};

struct mailbox_info {
    std::string name;                     // UTF-8 (decoded from modified UTF-7)
    std::string raw_name;                 // as on the wire
    std::optional<char> delimiter;        // nullopt: flat (NIL)
    std::vector<std::string> attributes;  // as sent: "\HasNoChildren", "\Sent", "\Subscribed"
    special_use use = special_use::none;
    bool noselect = false;                // \Noselect or \NonExistent: a name in the hierarchy, no messages
    bool subscribed = false;
};

struct namespace_info {
    struct entry {
        std::string prefix;               // UTF-8
        std::optional<char> delimiter;
    };
    std::vector<entry> personal, other_users, shared;
};

struct mailbox_status {
    std::optional<std::uint32_t> messages, uidnext, uidvalidity, unseen;
    std::optional<std::uint64_t> size;    // STATUS=SIZE (RFC 8438)
    std::optional<std::uint64_t> highestmodseq;   // when asked for (CONDSTORE, RFC 7162)
};

struct select_info {
    std::uint32_t exists = 0;
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 0;            // 0 when the server did not say
    std::vector<std::string> flags;            // FLAGS: what the mailbox defines
    std::vector<std::string> permanent_flags;  // PERMANENTFLAGS ("\*" = new keywords allowed)
    bool has_permanent_flags = false;          // the server sent PERMANENTFLAGS at all
    bool read_only = false;                    // [READ-ONLY] (EXAMINE, or no write rights)
    std::optional<std::uint64_t> highestmodseq;
};

// RFC 4314 (protocol/imap/acl.hpp): one identifier's rights, as the server sent them.
struct acl_grant {
    std::string identifier;
    std::string rights;
};
// LISTRIGHTS: rights always granted, and the sets that are granted or refused as a whole.
struct listrights_info {
    std::string required;
    std::vector<std::string> optional;
};

struct append_result {
    std::uint32_t uidvalidity = 0;        // 0 when the server has no UIDPLUS
    std::vector<std::uint32_t> uids;      // one per message, in order; empty without UIDPLUS
};

}  // namespace arrival::imap
