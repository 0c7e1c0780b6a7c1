// Helpers for the provision unit tests: an LDIF text straight into a model.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/dn.hpp"
#include "provision/ldif_file.hpp"
#include "provision/problem.hpp"

namespace arrival::provision::test {

inline directory_model model_of(const std::string& text, std::vector<problem>* problems = nullptr) {
    directory_model m;
    std::vector<problem> ps;
    std::istringstream in(text);
    load_ldif_stream(in, "t.ldif", "", m, ps);
    if (problems) *problems = ps;
    return m;
}

inline entry by_dn(const directory_model& m, const std::string& dn_text) {
    std::string n;
    if (normalize_dn(dn_text, n)) throw std::runtime_error("bad dn in test: " + dn_text);
    const auto i = m.find(n);
    if (!i) throw std::runtime_error("no entry " + dn_text);
    return m.at(*i);
}

}  // namespace arrival::provision::test
