// The blocking face of engine/mail/async_session.hpp, for code written as blocking steps on its own thread: verify,
// preflight and the integration tests' fixtures. Each call runs the async_session operation as a coroutine on
// the session's strand of the shared io_runtime (engine/mail/io_runtime.hpp) and waits for it, so it must never be
// called from an io_context thread. `arrival migrate` does not use it: its account jobs await async_session
// directly.
//
// Errors are thrown as session_error (engine/mail/async_session.hpp has the table of kinds).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/async_session.hpp"

namespace arrival::engine {

class imap_session {
public:
    virtual ~imap_session() = default;

    // Connects, upgrades to TLS as the endpoint says, logs in. Throws session_error.
    // With `dest`, the session is a destination's: it resolves the profile before logging in.
    static std::unique_ptr<imap_session> open(const server_endpoint& where, const login_identity& who,
                                              const dest_options* dest = nullptr);

    // The operations of async_session, same names, same contracts.
    [[nodiscard]] virtual const dest_profile& profile() const = 0;
    [[nodiscard]] virtual const std::string& profile_evidence() const = 0;
    [[nodiscard]] virtual bool tls_active() const = 0;
    [[nodiscard]] virtual bool has_capability(std::string_view cap) const = 0;
    [[nodiscard]] virtual std::optional<std::uint64_t> append_limit() const = 0;
    [[nodiscard]] virtual folder_namespace personal_namespace() = 0;
    [[nodiscard]] virtual std::vector<folder_namespace> shared_namespaces() = 0;
    [[nodiscard]] virtual std::vector<folder_namespace> other_users_namespaces() = 0;
    [[nodiscard]] virtual std::vector<mailbox_entry> list() = 0;
    [[nodiscard]] virtual folder_status status(const std::string& mailbox) = 0;
    [[nodiscard]] virtual std::vector<folder_status> status(const std::vector<std::string>& mailboxes) = 0;
    virtual folder_status examine(const std::string& mailbox) = 0;
    virtual folder_status select(const std::string& mailbox) = 0;
    [[nodiscard]] virtual std::vector<source_message> fetch_index(std::uint32_t from_uid, bool with_flags) = 0;
    virtual void fetch_bodies(const std::vector<std::uint32_t>& uids,
                              const std::function<body_buffer&(std::uint32_t uid, std::uint64_t size)>& sink) = 0;
    virtual void create(const std::string& mailbox) = 0;
    virtual void subscribe(const std::string& mailbox) = 0;
    [[nodiscard]] virtual std::vector<append_outcome> append(const std::string& mailbox, const std::vector<append_item>& items) = 0;
    virtual void logout() noexcept = 0;
};

}  // namespace arrival::engine
