#include "engine/mail/tls_contexts.hpp"

#include <map>
#include <mutex>
#include <utility>

#include "protocol/tls_policy.hpp"

namespace arrival::engine {

std::shared_ptr<boost::asio::ssl::context> shared_tls_context(const std::string& ca_file, bool insecure) {
    static std::mutex mu;
    static std::map<std::pair<std::string, bool>, std::shared_ptr<boost::asio::ssl::context>> contexts;
    std::lock_guard lock(mu);
    auto& slot = contexts[{ca_file, insecure}];
    if (!slot) slot = tls::make_client_context({ca_file, insecure});
    return slot;
}

}  // namespace arrival::engine
