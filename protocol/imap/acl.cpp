#include "protocol/imap/acl.hpp"

namespace arrival::imap {
namespace {

std::string_view normalise_inbox(std::string_view n) noexcept { return iequals(n, "INBOX") ? "INBOX" : n; }

// A rights string or identifier must be sendable and, for rights, made of letters and digits only (§2.1:
// "rights" is a set of single characters); a NUL/CR/LF in an identifier makes the builder refuse it.
bool rights_text_ok(std::string_view r) noexcept {
    for (char c : r) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum) return false;
    }
    return true;
}

error_code mailbox_only(std::string_view verb, std::string_view mailbox, const encoder_options& o, command& out,
                        diagnostics* diag) {
    command_builder b(verb, o, diag);
    b.mailbox(mailbox);
    return b.finish(out);
}

error_code mailbox_identifier(std::string_view verb, std::string_view mailbox, std::string_view identifier,
                              const encoder_options& o, command& out, diagnostics* diag) {
    if (identifier.empty()) {
        if (diag) diag->set_client_message(std::string(verb) + ": empty identifier");
        return errc::unencodable;
    }
    command_builder b(verb, o, diag);
    b.mailbox(mailbox).astring(identifier);
    return b.finish(out);
}

}  // namespace

error_code encode_getacl(std::string_view mailbox, const encoder_options& o, command& out, diagnostics* diag) {
    return mailbox_only("GETACL", mailbox, o, out, diag);
}

error_code encode_myrights(std::string_view mailbox, const encoder_options& o, command& out, diagnostics* diag) {
    return mailbox_only("MYRIGHTS", mailbox, o, out, diag);
}

error_code encode_deleteacl(std::string_view mailbox, std::string_view identifier, const encoder_options& o, command& out,
                            diagnostics* diag) {
    return mailbox_identifier("DELETEACL", mailbox, identifier, o, out, diag);
}

error_code encode_listrights(std::string_view mailbox, std::string_view identifier, const encoder_options& o, command& out,
                             diagnostics* diag) {
    return mailbox_identifier("LISTRIGHTS", mailbox, identifier, o, out, diag);
}

error_code encode_setacl(std::string_view mailbox, std::string_view identifier, std::string_view mod_rights,
                         const encoder_options& o, command& out, diagnostics* diag) {
    const std::string_view letters = !mod_rights.empty() && (mod_rights[0] == '+' || mod_rights[0] == '-')
                                         ? mod_rights.substr(1) : mod_rights;
    if (identifier.empty() || !rights_text_ok(letters)) {
        if (diag) diag->set_client_message(identifier.empty() ? "SETACL: empty identifier"
                                                              : "SETACL: rights must be letters and digits");
        return errc::unencodable;
    }
    command_builder b("SETACL", o, diag);
    b.mailbox(mailbox).astring(identifier).astring(mod_rights);
    return b.finish(out);
}

error_code decode_acl(const response& r, acl_data& out) {
    if (!r.is("ACL")) return errc::unexpected_response;
    out = acl_data{};
    const auto a = r.args;
    if (a.empty() || a.size() % 2 != 1) return errc::bad_syntax;
    for (const token& t : a) {
        if (!t.is_string()) return errc::bad_syntax;
    }
    out.mailbox = normalise_inbox(a[0].text);
    for (std::size_t i = 1; i + 1 < a.size(); i += 2) out.entries.push_back({a[i].text, a[i + 1].text});
    return {};
}

error_code decode_myrights(const response& r, myrights_data& out) {
    if (!r.is("MYRIGHTS")) return errc::unexpected_response;
    out = myrights_data{};
    const auto a = r.args;
    if (a.size() != 2 || !a[0].is_string() || !a[1].is_string()) return errc::bad_syntax;
    out.mailbox = normalise_inbox(a[0].text);
    out.rights = a[1].text;
    return {};
}

error_code decode_listrights(const response& r, listrights_data& out) {
    if (!r.is("LISTRIGHTS")) return errc::unexpected_response;
    out = listrights_data{};
    const auto a = r.args;
    if (a.size() < 3) return errc::bad_syntax;
    for (const token& t : a) {
        if (!t.is_string()) return errc::bad_syntax;
    }
    out.mailbox = normalise_inbox(a[0].text);
    out.identifier = a[1].text;
    out.required = a[2].text;
    for (std::size_t i = 3; i < a.size(); ++i) out.optional.push_back(a[i].text);
    return {};
}

std::string normalize_rights(std::string_view rights) {
    constexpr std::string_view standard = "lrswipkxtea";
    const auto has = [&](char c) { return rights.find(c) != std::string_view::npos; };
    std::string set;   // the standard letters present, in any order
    for (char c : rights) {
        if (standard.find(c) != std::string_view::npos) set += c;
    }
    // §2.1.1: "c" stands for k (+x on some servers), "d" for e+t (+x on others); take only what both mean,
    // and only when the server did not list the new letters itself.
    if (has('c') && !has('k') && !has('x')) set += 'k';
    if (has('d') && !has('e') && !has('t') && !has('x')) set += "et";
    std::string out;
    for (char c : standard) {
        if (set.find(c) != std::string::npos) out += c;
    }
    for (char c : rights) {
        if (standard.find(c) == std::string_view::npos && c != 'c' && c != 'd' && out.find(c) == std::string::npos)
            out += c;
    }
    return out;
}

}  // namespace arrival::imap
