#include "engine/mail/body_buffer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

namespace arrival::engine {

namespace {

// The live mappings of spilled bodies, by first byte: what release_written_pages may give back. Views are made
// and written on any io thread, hence the lock (one lookup per socket write).
struct mapped_bodies {
    std::mutex lock;
    std::map<const char*, std::size_t> sizes;
};

mapped_bodies& mapped() {
    static mapped_bodies m;
    return m;
}

}  // namespace

void release_written_pages(std::string_view written) noexcept {
    if (written.empty()) return;
    auto& m = mapped();
    const std::scoped_lock hold(m.lock);
    auto it = m.sizes.upper_bound(written.data());
    if (it == m.sizes.begin()) return;
    --it;
    const char* begin = it->first;
    const char* end = begin + it->second;
    if (written.data() >= end) return;
    // Writes go through a body in order, so every byte of its pages before the end of this write has been
    // written: from the page holding the write's first byte to the last whole page it completed (or the
    // mapping's end, whose last page is partial).
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const char* stop = std::min(end, written.data() + written.size());
    const auto from = std::max(reinterpret_cast<std::uintptr_t>(begin), reinterpret_cast<std::uintptr_t>(written.data()) / page * page);
    const auto to = stop == end ? reinterpret_cast<std::uintptr_t>(end) : reinterpret_cast<std::uintptr_t>(stop) / page * page;
    if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
}

body_view::~body_view() {
    if (!mapped_) return;
    {
        auto& m = mapped();
        const std::scoped_lock hold(m.lock);
        m.sizes.erase(data_);
    }
    ::munmap(const_cast<char*>(data_), size_);
}

body_view body_buffer::view_all() const {
    if (!file_ || size_ == 0) return body_view(mem_.data(), file_ ? 0 : mem_.size(), false);
    if (std::fflush(file_) != 0) throw std::runtime_error(fmt::format("cannot write a spill file: {}", std::strerror(errno)));
    void* p = ::mmap(nullptr, static_cast<std::size_t>(size_), PROT_READ, MAP_SHARED, ::fileno(file_), 0);
    if (p == MAP_FAILED) throw std::runtime_error(fmt::format("cannot map a spill file of {} bytes: {}", size_, std::strerror(errno)));
    ::madvise(p, static_cast<std::size_t>(size_), MADV_SEQUENTIAL);
    {
        auto& m = mapped();
        const std::scoped_lock hold(m.lock);
        m.sizes[static_cast<const char*>(p)] = static_cast<std::size_t>(size_);
    }
    return body_view(static_cast<const char*>(p), static_cast<std::size_t>(size_), true);
}

body_buffer::~body_buffer() {
    if (file_) std::fclose(file_);
}

body_buffer::body_buffer(body_buffer&& o) noexcept
    : threshold_(o.threshold_), spill_dir_(std::move(o.spill_dir_)), mem_(std::move(o.mem_)), file_(o.file_), size_(o.size_),
      has_nul_(o.has_nul_) {
    o.file_ = nullptr;
    o.size_ = 0;
}

body_buffer& body_buffer::operator=(body_buffer&& o) noexcept {
    if (this != &o) {
        if (file_) std::fclose(file_);
        threshold_ = o.threshold_;
        spill_dir_ = std::move(o.spill_dir_);
        mem_ = std::move(o.mem_);
        file_ = o.file_;
        size_ = o.size_;
        has_nul_ = o.has_nul_;
        o.file_ = nullptr;
        o.size_ = 0;
    }
    return *this;
}

void body_buffer::begin(std::uint64_t expected) {
    mem_.clear();
    size_ = 0;
    has_nul_ = false;
    if (expected > threshold_) spill();
    else mem_.reserve(static_cast<std::size_t>(expected));
}

void body_buffer::spill() {
    if (file_) return;
    // O_TMPFILE: a file with no name at all, so it is never visible in the directory and is gone when closed,
    // even after kill -9. File systems without it (EOPNOTSUPP, EISDIR on old kernels) get mkstemp + unlink,
    // which leaves the name visible for the moment between the two calls.
    int fd = ::open(spill_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        std::string tmpl = spill_dir_ + "/arrival-body.XXXXXX";
        fd = mkstemp(tmpl.data());
        if (fd >= 0) ::unlink(tmpl.c_str());
    }
    if (fd < 0) throw std::runtime_error(fmt::format("cannot create a spill file in {}: {}", spill_dir_, std::strerror(errno)));
    file_ = ::fdopen(fd, "w+b");
    if (!file_) {
        ::close(fd);
        throw std::runtime_error(fmt::format("cannot open a spill file: {}", std::strerror(errno)));
    }
    if (!mem_.empty() && std::fwrite(mem_.data(), 1, mem_.size(), file_) != mem_.size()) {
        throw std::runtime_error(fmt::format("cannot write a spill file in {}: {}", spill_dir_, std::strerror(errno)));
    }
    std::string().swap(mem_);
}

void body_buffer::append(std::string_view chunk) {
    if (!has_nul_ && std::memchr(chunk.data(), 0, chunk.size()) != nullptr) has_nul_ = true;
    if (!file_ && mem_.size() + chunk.size() > threshold_) spill();
    if (file_) {
        if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) {
            throw std::runtime_error(fmt::format("cannot write a spill file in {}: {}", spill_dir_, std::strerror(errno)));
        }
    } else {
        mem_.append(chunk);
    }
    size_ += chunk.size();
}

std::string body_buffer::read_prefix(std::size_t n) const {
    if (!file_) return std::string(mem_.substr(0, n));
    std::string out(std::min<std::uint64_t>(n, size_), '\0');
    std::fflush(file_);
    if (std::fseek(file_, 0, SEEK_SET) != 0) throw std::runtime_error("cannot seek a spill file");
    const auto got = std::fread(out.data(), 1, out.size(), file_);
    out.resize(got);
    std::fseek(file_, 0, SEEK_END);
    return out;
}

void body_buffer::for_each_chunk(const std::function<void(std::string_view)>& f, std::size_t chunk) const {
    if (!file_) {
        for (std::size_t off = 0; off < mem_.size(); off += chunk) f(std::string_view(mem_).substr(off, chunk));
        return;
    }
    std::fflush(file_);
    if (std::fseek(file_, 0, SEEK_SET) != 0) throw std::runtime_error("cannot seek a spill file");
    std::string buf(chunk, '\0');
    std::uint64_t left = size_;
    while (left > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk));
        const auto got = std::fread(buf.data(), 1, want, file_);
        if (got != want) throw std::runtime_error(fmt::format("spill file truncated: {}", std::strerror(errno)));
        f(std::string_view(buf.data(), got));
        left -= got;
    }
    std::fseek(file_, 0, SEEK_END);
}

}  // namespace arrival::engine
