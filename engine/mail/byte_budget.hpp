// A cap on message bytes held in memory by all folder copies of a run together. A batch acquires its in-memory
// size before its bodies are fetched and releases it once the destination acknowledged it, so RSS stays
// bounded however many accounts and folders run and however large the mailboxes are. Bodies above the spill
// threshold live in temporary files and are not counted. Waiting for bytes suspends the fetching coroutine,
// never a thread (engine/mail/async_semaphore.hpp); a batch larger than the whole budget waits for everything
// else to drain.
#pragma once
#include "engine/mail/async_semaphore.hpp"

namespace arrival::engine {

using byte_budget = async_semaphore;

}  // namespace arrival::engine
