// The one way a run is asked to end early (Ctrl-C, SIGTERM, or `arrival run` between stages): a process-wide
// flag that every stage polls at its safe points. The mail stage stops fetching, lets the batches already
// sent be answered and commits them to the state, and reports the accounts it did not finish as
// "interrupted"; the per-user stages (calendars, contacts, files) start no further user. A second signal
// ends the process at once (the state is committed batch by batch, so even that loses nothing).
#pragma once

namespace arrival::engine {

// Installs the SIGINT/SIGTERM handlers (idempotent). The first signal sets the flag; the second restores
// the default action and re-raises.
void stop_on_signals();

// What an account, folder or user that the stop cut short reports as its error.
inline constexpr const char* interrupted_reason = "interrupted";

void request_stop() noexcept;
[[nodiscard]] bool stop_requested() noexcept;

}  // namespace arrival::engine
