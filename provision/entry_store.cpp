#include "provision/entry_store.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace arrival::provision {
namespace {

constexpr std::size_t flush_at = 1u << 20;     // write in 1 MiB pieces
constexpr std::size_t window_size = 128u << 10;

std::string spool_dir() {
    const char* t = std::getenv("TMPDIR");
    return t != nullptr && *t != '\0' ? t : "/tmp";
}

[[noreturn]] void io_failed(const char* what) {
    throw std::runtime_error(fmt::format("plan spool in {}: {}: {}", spool_dir(), what, std::strerror(errno)));
}

}  // namespace

entry_store::~entry_store() {
    if (fd_ >= 0) ::close(fd_);
}

entry_store::entry_store(entry_store&& other) noexcept { *this = std::move(other); }

entry_store& entry_store::operator=(entry_store&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        slots_ = std::move(other.slots_);
        pending_ = std::move(other.pending_);
        flushed_ = std::exchange(other.flushed_, 0);
        for (auto& w : windows_) w = {};
    }
    return *this;
}

void entry_store::open_spool() {
    const std::string dir = spool_dir();
    // O_TMPFILE: never visible in the directory, so nothing is left behind even after kill -9.
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        std::string name = dir + "/arrival-plan.XXXXXX";
        fd_ = ::mkstemp(name.data());
        if (fd_ < 0) io_failed("cannot create a temporary file");
        ::unlink(name.c_str());
    }
}

void entry_store::flush() {
    std::size_t done = 0;
    while (done < pending_.size()) {
        const ssize_t n = ::pwrite(fd_, pending_.data() + done, pending_.size() - done,
                                   static_cast<off_t>(flushed_ + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) io_failed("cannot write (is the disk full?)");
        done += static_cast<std::size_t>(n);
    }
    flushed_ += pending_.size();
    pending_.clear();
}

void entry_store::append(const entry& e, slot& s) {
    if (fd_ < 0) open_spool();
    encoded_.clear();
    e.encode(encoded_);
    if (encoded_.size() > 0xffffffffu) throw std::length_error("entry too large for the plan spool: " + e.dn());
    s.offset = flushed_ + pending_.size();
    s.size = static_cast<std::uint32_t>(encoded_.size());
    pending_ += encoded_;
    if (pending_.size() >= flush_at) flush();
}

void entry_store::push_back(const entry& e) {
    slot s{};
    append(e, s);
    slots_.push_back(s);
}

void entry_store::set(std::size_t i, const entry& e) { append(e, slots_.at(i)); }

std::string_view entry_store::record(slot s, bool sequential) const {
    // A record is appended to pending_ whole and pending_ is written whole: none straddles the boundary.
    if (s.offset >= flushed_) return std::string_view(pending_).substr(s.offset - flushed_, s.size);
    window* lru = &windows_[0];
    for (auto& w : windows_) {
        if (s.offset >= w.offset && s.offset + s.size <= w.offset + w.bytes.size()) {
            w.last_use = ++uses_;
            return std::string_view(w.bytes).substr(s.offset - w.offset, s.size);
        }
        if (w.last_use < lru->last_use) lru = &w;
    }
    std::string& buf = sequential ? lru->bytes : exact_;
    const std::size_t want = sequential ? std::max<std::size_t>(window_size, s.size) : s.size;
    const std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(want, flushed_ - s.offset));
    buf.resize(len);
    std::size_t done = 0;
    while (done < len) {
        const ssize_t n = ::pread(fd_, buf.data() + done, len - done, static_cast<off_t>(s.offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) io_failed("cannot read back");
        done += static_cast<std::size_t>(n);
    }
    if (sequential) {
        lru->offset = s.offset;
        lru->last_use = ++uses_;
    }
    return std::string_view(buf).substr(0, s.size);
}

void entry_store::get(std::size_t i, entry& out) const {
    if (!out.decode(record(slots_.at(i), true))) throw std::runtime_error("plan spool: a record does not decode");
}

std::string entry_store::ndn(std::size_t i) const { return std::string(entry::encoded_ndn(record(slots_.at(i), false))); }

void entry_store::erase(const std::vector<bool>& drop) {
    std::size_t to = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (!drop.at(i)) slots_[to++] = slots_[i];
    }
    slots_.resize(to);
}

void entry_store::permute(const std::vector<std::size_t>& order) {
    std::vector<slot> next;
    next.reserve(slots_.size());
    for (const auto k : order) next.push_back(slots_.at(k));
    slots_ = std::move(next);
}

}  // namespace arrival::provision
