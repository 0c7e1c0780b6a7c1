// The plan's entries, spooled to an unlinked temporary file instead of held in memory: a 100,000-account
// export is ~100 MB of LDIF and the plan must be read and validated in bounded memory, so only a slot per
// entry (offset and size, 12 bytes) stays in RAM; every step of the plan reads entries back one at a time.
// The file lives in $TMPDIR (/tmp by default), is unlinked at once and disappears with the process.
//
// A changed entry is appended anew and its slot repointed (the old bytes become garbage: the spool grows by
// what the steps rewrite, at most a few times the input). Reads go through a few windows of the file, so a
// pass in slot order costs a read() per 128 KiB, not per entry, even when it alternates between entries
// never rewritten and entries rewritten by an earlier pass (which lie further on in the file). Random
// access (ndn()) reads just the record. Single-threaded: the windows are shared state.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "provision/entry.hpp"

namespace arrival::provision {

class entry_store {
public:
    entry_store() = default;
    ~entry_store();
    entry_store(entry_store&& other) noexcept;
    entry_store& operator=(entry_store&& other) noexcept;
    entry_store(const entry_store&) = delete;
    entry_store& operator=(const entry_store&) = delete;

    [[nodiscard]] std::size_t size() const noexcept { return slots_.size(); }
    void push_back(const entry& e);
    void get(std::size_t i, entry& out) const;    // throws std::runtime_error on an I/O error
    void set(std::size_t i, const entry& e);      // stores a new version of entry i
    std::string ndn(std::size_t i) const;          // the normalized DN only
    // Removes the slots whose flag is true; the others keep their order.
    void erase(const std::vector<bool>& drop);
    // Slot k becomes the old slot order[k] (order is a permutation of 0..size()-1).
    void permute(const std::vector<std::size_t>& order);

private:
    struct slot {
        std::uint64_t offset;
        std::uint32_t size;
    };
    std::string_view record(slot s, bool sequential) const;
    struct window {
        std::uint64_t offset = 0;
        std::uint64_t last_use = 0;
        std::string bytes;
    };
    void append(const entry& e, slot& s);
    void flush();
    void open_spool();

    int fd_ = -1;
    std::vector<slot> slots_;
    std::string encoded_;                 // scratch for encode()
    std::string pending_;                 // appended, not yet written
    std::uint64_t flushed_ = 0;           // file size
    mutable window windows_[4];           // copies of parts of the file, least recently used replaced
    mutable std::uint64_t uses_ = 0;
    mutable std::string exact_;           // a record read on its own (random access)
};

}  // namespace arrival::provision
