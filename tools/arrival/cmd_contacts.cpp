// `arrival contacts`: the same stage as `arrival calendars` (cmd_calendars.cpp), for CSV contact exports:
//   arrival contacts --dir DIR --accounts FILE --dest URL [--admin USER] [--password-file F] [--jobs N]
//                    [--report F]   (+ --csv-format, --vcard-version and the options of calendars)
#include "engine/pim/import_job.hpp"
#include "tools/arrival/commands.hpp"

namespace arrival::cli {

// Defined in cmd_calendars.cpp: option parsing, accounts, passwords, progress, report and exit status.
int run_pim_stage(pim::pim_kind kind, int argc, char** argv);

int run_contacts(int argc, char** argv) { return run_pim_stage(pim::pim_kind::contacts, argc, argv); }

}  // namespace arrival::cli
