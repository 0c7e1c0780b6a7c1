// A password held in memory only. Every way of turning it into text (ostream, fmt) prints a fixed
// placeholder, so a secret that ends up in a log line, an error message or a report by mistake leaks
// nothing. The bytes are wiped when the object dies. Use reveal() only where the protocol needs them.
#pragma once
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace arrival::engine {

class secret_string {
public:
    secret_string() = default;
    explicit secret_string(std::string value) : value_(std::move(value)) {}
    secret_string(const secret_string&) = default;
    secret_string(secret_string&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
    secret_string& operator=(const secret_string& other) {
        if (this != &other) {
            wipe();
            value_ = other.value_;
        }
        return *this;
    }
    secret_string& operator=(secret_string&& other) noexcept {
        if (this != &other) {
            wipe();
            value_ = std::move(other.value_);
            other.wipe();
        }
        return *this;
    }
    ~secret_string() { wipe(); }

    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
    // The only accessor of the bytes: call it at the point where the credential goes on the wire.
    [[nodiscard]] const std::string& reveal() const noexcept { return value_; }

    static constexpr std::string_view placeholder = "<redacted>";

    friend std::ostream& operator<<(std::ostream& os, const secret_string&) { return os << placeholder; }
    friend bool operator==(const secret_string& a, const secret_string& b) noexcept { return a.value_ == b.value_; }

private:
    void wipe() noexcept {
        // volatile stores so the compiler cannot drop the wipe of memory about to be freed.
        volatile char* p = value_.data();
        for (std::size_t i = 0; i < value_.size(); ++i) p[i] = 0;
        value_.clear();
    }
    std::string value_;
};

}  // namespace arrival::engine

template <>
struct fmt::formatter<arrival::engine::secret_string> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const arrival::engine::secret_string&, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(arrival::engine::secret_string::placeholder, ctx);
    }
};
