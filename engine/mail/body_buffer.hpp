// One message's bytes on their way from the source's FETCH to the destination's APPEND. Small bodies stay
// in memory; once a body passes `spill_threshold` it moves to an unlinked temporary file, so a 50 MB message
// costs a few hundred KB of RAM however many accounts run at once. Bytes are written exactly as received.
//
// Calling order: begin(expected_size), append(chunk)..., finish(); then size()/read_prefix()/for_each_chunk().
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace arrival::engine {

// The whole body as one contiguous string_view for as long as this object lives: a view of the in-memory bytes,
// or the spill file mapped read-only. The IMAP connection's APPEND borrows a single string_view per message,
// so this is how a spilled 50 MB body is sent without being read into the heap. The mapping's pages are the
// page cache's, but every page touched counts in the process's resident set while it is mapped: the connection
// gives back the pages it has written (release_written_pages), so a big APPEND holds a socket buffer's worth
// of them, not the whole message.
class body_view {
public:
    body_view() = default;
    ~body_view();
    body_view(body_view&& o) noexcept : data_(o.data_), size_(o.size_), mapped_(o.mapped_) { o.mapped_ = false; }
    body_view& operator=(body_view&&) = delete;
    body_view(const body_view&) = delete;
    body_view& operator=(const body_view&) = delete;
    [[nodiscard]] std::string_view bytes() const noexcept { return {data_, size_}; }

private:
    friend class body_buffer;
    body_view(const char* data, std::size_t size, bool mapped) : data_(data), size_(size), mapped_(mapped) {}
    const char* data_ = nullptr;
    std::size_t size_ = 0;
    bool mapped_ = false;
};

// Called with the bytes of each completed socket write (imap::connect_options::written). Where they lie in a
// live spilled body's mapping, the whole pages written are dropped from the process (MADV_DONTNEED: the file
// keeps the bytes, so a page read again, as by an APPEND sent again, faults back in from the page cache).
// Anything else is left alone: the in-memory bodies and the connection's own buffers are never given back.
void release_written_pages(std::string_view written) noexcept;

class body_buffer {
public:
    explicit body_buffer(std::size_t spill_threshold = 1 << 20, std::string spill_dir = "/tmp")
        : threshold_(spill_threshold), spill_dir_(std::move(spill_dir)) {}
    ~body_buffer();
    body_buffer(body_buffer&& other) noexcept;
    body_buffer& operator=(body_buffer&& other) noexcept;
    body_buffer(const body_buffer&) = delete;
    body_buffer& operator=(const body_buffer&) = delete;

    // `expected` (the literal's size) lets a big body go straight to disk without first growing in memory.
    void begin(std::uint64_t expected);
    // Throws std::runtime_error (with errno text) when the spill file cannot be written.
    void append(std::string_view chunk);

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    [[nodiscard]] bool spilled() const noexcept { return file_ != nullptr; }
    // Whether a NUL byte was among the bytes appended (found as they arrive, so a spilled body is not reread):
    // no IMAP literal may carry one, only a literal8 (RFC 3516).
    [[nodiscard]] bool contains_nul() const noexcept { return has_nul_; }
    // Bytes held in RAM (what the in-flight budget counts).
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return mem_.capacity(); }
    // The first `n` bytes (fewer if the body is shorter): enough for a header scan.
    [[nodiscard]] std::string read_prefix(std::size_t n) const;
    // Feeds the whole body in order, in chunks of at most `chunk` bytes.
    void for_each_chunk(const std::function<void(std::string_view)>& f, std::size_t chunk = 256 * 1024) const;
    // The whole body, contiguous (see body_view). Throws std::runtime_error (with errno text) when the spill
    // file cannot be mapped.
    [[nodiscard]] body_view view_all() const;
    // In-memory view; only valid when !spilled().
    [[nodiscard]] std::string_view view() const noexcept { return mem_; }

private:
    void spill();
    std::size_t threshold_;
    std::string spill_dir_;
    std::string mem_;
    std::FILE* file_ = nullptr;
    std::uint64_t size_ = 0;
    bool has_nul_ = false;
};

}  // namespace arrival::engine
