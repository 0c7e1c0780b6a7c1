// Reading LDIF files into the plan: the I/O side of ldif_reader. Streams the file in 1 MiB chunks, reads
// `:<` file: URLs relative to the LDIF file's directory, and turns every reader error into a problem with
// file:line. Change records (modify/delete/modrdn) go to the model's changes(), in file order, for
// changes.hpp to apply.
#pragma once
#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/problem.hpp"

namespace arrival::provision {

struct load_stats {
    std::size_t records = 0;  // records read, good or bad
    std::size_t entries = 0;  // entries added to the plan
    std::size_t changes = 0;  // change records kept for changes.hpp
    std::size_t errors = 0;
};

// `name` is what problems call the input; `base_dir` resolves relative file: URLs ("" = current directory).
load_stats load_ldif_stream(std::istream& in, const std::string& name, const std::string& base_dir,
                            directory_model& model, std::vector<problem>& problems);

load_stats load_ldif_file(const std::string& path, directory_model& model, std::vector<problem>& problems);

// Reads a whole (small) file: rules files, DL CSV, .schema files. Throws std::runtime_error naming the file.
std::string read_text_file(const std::string& path);

}  // namespace arrival::provision
