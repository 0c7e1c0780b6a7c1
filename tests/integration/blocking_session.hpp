// The blocking face of engine/mail/async_session.hpp, for the integration tests' fixtures, which seed and read
// mailboxes as plain steps of a test. Each call runs the async_session operation as a coroutine on the
// session's strand of a shared io runtime (blocking_session.cpp) and waits for it, so it must never be called
// from an io_context thread. The engine has no blocking session: every command's accounts are coroutines
// (engine/mail/account_job.hpp, engine/mail/account_workers.hpp).
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

namespace arrival::test {

class blocking_session {
public:
    virtual ~blocking_session() = default;

    // Connects, upgrades to TLS as the endpoint says, logs in. Throws session_error.
    // With `dest`, the session is a destination's: it resolves the profile before logging in.
    static std::unique_ptr<blocking_session> open(const engine::server_endpoint& where, const engine::login_identity& who,
                                                  const engine::dest_options* dest = nullptr);

    // The operations of async_session, same names, same contracts.
    [[nodiscard]] virtual const engine::dest_profile& profile() const = 0;
    [[nodiscard]] virtual const std::string& profile_evidence() const = 0;
    [[nodiscard]] virtual bool tls_active() const = 0;
    [[nodiscard]] virtual bool has_capability(std::string_view cap) const = 0;
    [[nodiscard]] virtual std::optional<std::uint64_t> append_limit() const = 0;
    [[nodiscard]] virtual engine::folder_namespace personal_namespace() = 0;
    [[nodiscard]] virtual std::vector<engine::folder_namespace> shared_namespaces() = 0;
    [[nodiscard]] virtual std::vector<engine::folder_namespace> other_users_namespaces() = 0;
    [[nodiscard]] virtual std::vector<engine::mailbox_entry> list() = 0;
    [[nodiscard]] virtual engine::folder_status status(const std::string& mailbox) = 0;
    [[nodiscard]] virtual std::vector<engine::folder_status> status(const std::vector<std::string>& mailboxes) = 0;
    virtual engine::folder_status examine(const std::string& mailbox) = 0;
    virtual engine::folder_status select(const std::string& mailbox) = 0;
    [[nodiscard]] virtual std::vector<engine::source_message> fetch_index(std::uint32_t from_uid, bool with_flags) = 0;
    virtual void fetch_bodies(const std::vector<std::uint32_t>& uids,
                              const std::function<engine::body_buffer&(std::uint32_t uid, std::uint64_t size)>& sink) = 0;
    virtual void create(const std::string& mailbox) = 0;
    virtual void subscribe(const std::string& mailbox) = 0;
    [[nodiscard]] virtual std::vector<engine::append_outcome> append(const std::string& mailbox, const std::vector<engine::append_item>& items) = 0;
    virtual void logout() noexcept = 0;
};

}  // namespace arrival::test
