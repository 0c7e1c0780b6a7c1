// A whole session recorded from a real Dovecot 2.3.19 (tests/fixtures/imap/record-dovecot.py): every response
// must parse and decode, at every split, with literals inline and streamed.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "protocol/imap/data_decoder.hpp"
#include "protocol/imap/list_decoder.hpp"
#include "protocol/imap/mutf7.hpp"
#include "protocol/imap/resp_code.hpp"
#include "tests/protocol/imap/transcript.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/split_feed.hpp"

namespace arrival::test {
// Named, not anonymous: the unit tests build in shared unity chunks (tests/meson.build).
namespace dovecot_fixture_test {

using namespace arrival::imap;

// Decodes every response with the decoder for its kind and writes one line per decoded value.
class session_decoder : public response_handler {
public:
    fetch_transcript fetch;
    fetch_response_handler fetch_handler{fetch, nullptr};

    error_code on_response(const response& r) override {
        if (r.kind == response_kind::untagged && r.is("FETCH")) return fetch_handler.on_response(r);
        std::string& out = fetch.out;
        if (r.is_status()) {
            const error_code st = status_error(r);
            out += fmt::format("{} {} code={} -> {}\n", r.tag.empty() ? "*" : r.tag, to_string(r.status), r.code.name,
                               st ? st.message() : "ok");
            if (classify_code(r.code.name) == code_kind::appenduid) {
                appenduid_data a;
                if (auto ec = code_appenduid(r.code, a)) return ec;
                out += fmt::format("  appenduid {} uid {}\n", a.uidvalidity, a.uids.at(0).first);
            }
            return {};
        }
        if (r.kind == response_kind::continuation) return errc::unexpected_continuation;
        if (r.is("LIST") || r.is("LSUB")) {
            list_entry e;
            if (auto ec = decode_list(r, e)) return ec;
            std::string name;
            if (auto ec = decode_mutf7(e.name, name)) return ec;
            out += fmt::format("  {} {} use={} sub={} noselect={}\n", r.name, name, to_string(e.use), e.subscribed, e.noselect);
        } else if (r.is("STATUS")) {
            status_entry s;
            if (auto ec = decode_status(r, s)) return ec;
            out += fmt::format("  status {} messages={} size={}\n", s.mailbox, s.messages.value_or(0), s.size.value_or(0));
        } else if (r.is("CAPABILITY") || r.is("ENABLED")) {
            std::vector<std::string_view> caps;
            if (auto ec = decode_capability(r, caps)) return ec;
            out += fmt::format("  {} x{}\n", r.name, caps.size());
        } else if (r.is("NAMESPACE")) {
            namespace_data n;
            if (auto ec = decode_namespace(r, n)) return ec;
            out += fmt::format("  namespace personal={} delim={}\n", n.personal.size(), n.personal.at(0).delimiter.value_or('?'));
        } else if (r.is("SEARCH")) {
            std::vector<std::uint32_t> v;
            if (auto ec = decode_search(r, v)) return ec;
            out += fmt::format("  search {}\n", v.size());
        } else if (r.is("ESEARCH")) {
            esearch_result e;
            if (auto ec = decode_esearch(r, e)) return ec;
            out += fmt::format("  esearch tag={} count={}\n", e.tag, e.count.value_or(0));
        } else if (r.is("ID")) {
            std::vector<std::pair<std::string_view, std::optional<std::string_view>>> v;
            if (auto ec = decode_id(r, v)) return ec;
            out += fmt::format("  id {}={}\n", v.at(0).first, v.at(0).second.value_or("NIL"));
        } else if (r.is("FLAGS")) {
            std::vector<std::string_view> v;
            if (auto ec = decode_flags(r, v)) return ec;
            out += fmt::format("  flags x{}\n", v.size());
        } else if (r.is("EXISTS") || r.is("RECENT") || r.is("EXPUNGE")) {
            if (!r.number) return errc::bad_syntax;
            out += fmt::format("  {} {}\n", r.name, *r.number);
        } else {
            return errc::unexpected_response;
        }
        return {};
    }
    error_code on_literal_begin(const response& partial, std::uint64_t size) override {
        return fetch_handler.on_literal_begin(partial, size);
    }
    error_code on_literal_chunk(std::string_view b) override { return fetch_handler.on_literal_chunk(b); }
    error_code on_literal_end() override { return fetch_handler.on_literal_end(); }
};

std::string decode_session(const std::vector<std::string_view>& chunks, response_parser::limits limits) {
    response_parser p(limits);
    session_decoder h;
    for (auto c : chunks) {
        if (auto ec = p.feed(c, h)) return h.fetch.out + "error: " + ec.message() + " " + p.diag().client_message();
    }
    if (p.has_partial()) h.fetch.out += "partial";
    return h.fetch.out;
}

TEST(dovecot_fixture, decodes_at_every_split_inline_and_streamed) {
    const std::string bytes = load_fixture("imap/dovecot-2.3-session.raw");
    response_parser::limits streamed;
    streamed.max_inline_literal = 1024;  // the 2 KB and 40 KB bodies are streamed, the ENVELOPE literal is not
    const std::string inline_result = decode_session({bytes}, {});
    const std::string streamed_result = decode_session({bytes}, streamed);
    EXPECT_EQ(inline_result, streamed_result);
    // 256 two-chunk splits spread over the 47 KB (every byte position is covered by the byte-at-a-time run and
    // by the table tests), to keep this test at a few seconds under ASan.
    for (const auto& limits : {response_parser::limits{}, streamed}) {
        const auto r = split_feed(bytes, [&](const std::vector<std::string_view>& c) { return decode_session(c, limits); }, 256);
        EXPECT_EQ(r.mismatch, "");
    }

    const std::string& t = inline_result;
    EXPECT_EQ(t.find("error"), std::string::npos) << t;
    EXPECT_EQ(t.find("partial"), std::string::npos) << t;
    // What the migration relies on, as Dovecot actually sends it:
    EXPECT_NE(t.find("a2 NO code=AUTHENTICATIONFAILED -> authentication failed"), std::string::npos) << t;
    EXPECT_NE(t.find("LIST \xc3\x89t\xc3\xa9/Projekt \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e use= sub=false"), std::string::npos) << t;
    EXPECT_NE(t.find("LIST \xc3\x89t\xc3\xa9 use= sub=false noselect=true"), std::string::npos) << t;  // \NonExistent parent
    EXPECT_NE(t.find("LIST Sent use=\\Sent sub=true"), std::string::npos) << t;
    EXPECT_NE(t.find("LIST Archive use= sub=true"), std::string::npos) << t;
    EXPECT_NE(t.find("NO code=ALREADYEXISTS -> mailbox already exists (ALREADYEXISTS)"), std::string::npos) << t;
    EXPECT_NE(t.find("NO code=TRYCREATE -> mailbox does not exist (TRYCREATE)"), std::string::npos) << t;
    EXPECT_NE(t.find("  appenduid"), std::string::npos) << t;
    EXPECT_NE(t.find("status INBOX messages=3 size=42119"), std::string::npos) << t;
    EXPECT_NE(t.find("esearch tag=a23 count=3"), std::string::npos) << t;
    EXPECT_NE(t.find("fetch seq=1 uid=1 flags=(\\Seen \\Recent $Forwarded) date=17-Jul-1996 09:44:25 +0000 size=2247 parts=0"),
              std::string::npos) << t;
    EXPECT_NE(t.find("body seq=2 uid=2 item=BODY[] section= origin=- nil=false size=39325: [39325 bytes"), std::string::npos) << t;
    EXPECT_NE(t.find("item=BODY[HEADER.FIELDS (MESSAGE-ID SUBJECT)] section=HEADER.FIELDS (MESSAGE-ID SUBJECT)"), std::string::npos) << t;
    EXPECT_NE(t.find("item=BODY[]<0> section= origin=0 nil=false size=20: From: Alice <alice@e"), std::string::npos) << t;
    EXPECT_NE(t.find("fetch seq=2 uid=2 modseq=4 parts=2"), std::string::npos) << t;  // ENVELOPE/BODYSTRUCTURE skipped
    EXPECT_NE(t.find("item=BINARY[] section= origin=- nil=false size=547"), std::string::npos) << t;
    EXPECT_NE(t.find("EXPUNGE 3"), std::string::npos) << t;
    EXPECT_NE(t.find("* BYE code= -> the server closed the connection (BYE)"), std::string::npos) << t;
    EXPECT_NE(t.find("BAD code= -> the server rejected the command as invalid (BAD)"), std::string::npos) << t;
}

}  // namespace
}  // namespace arrival::test
