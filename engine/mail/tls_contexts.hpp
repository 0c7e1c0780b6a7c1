// The TLS client contexts every IMAP connection of the process shares (engine/mail/async_session.cpp).
#pragma once
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace arrival::engine {

// One TLS client context per (CA file, insecure) pair for the whole process: the system trust store is loaded
// once, not per login. Thread-safe. Throws std::runtime_error naming the CA file when it cannot be loaded.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> shared_tls_context(const std::string& ca_file, bool insecure);

}  // namespace arrival::engine
