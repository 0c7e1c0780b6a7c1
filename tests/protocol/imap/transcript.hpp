// Handlers that turn parser/decoder events into one text transcript per input, so table tests compare strings
// and split_feed can check that every chunking gives the same events.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/fetch_decoder.hpp"
#include "protocol/imap/response_parser.hpp"

namespace arrival::test {

// "* 3 FETCH ( UID 7 BODY[] {5}hello )" / "a1 OK [APPENDUID 1 2] done" / "+ text" / "<literal 10: ...>"
[[nodiscard]] std::string render(const imap::response& r);

class transcript_handler : public imap::response_handler {
public:
    std::string out;
    [[nodiscard]] imap::error_code on_response(const imap::response& r) override;
    [[nodiscard]] imap::error_code on_literal_begin(const imap::response& partial, std::uint64_t size) override;
    [[nodiscard]] imap::error_code on_literal_chunk(std::string_view bytes) override;
    [[nodiscard]] imap::error_code on_literal_end() override;

private:
    std::string literal_;
};

// Feeds the chunks to a fresh parser with `limits`; the transcript ends with "error: <message>" on failure.
[[nodiscard]] std::string parse_transcript(const std::vector<std::string_view>& chunks,
                                           imap::response_parser::limits limits = {});

// FETCH events: "body seq=1 uid=7 item=BODY[] section= size=5: hello" / "fetch seq=1 uid=7 flags=\Seen ..."
class fetch_transcript : public imap::fetch_handler {
public:
    std::string out;
    [[nodiscard]] imap::error_code on_body_begin(const imap::fetch_part& part, std::uint64_t size) override;
    [[nodiscard]] imap::error_code on_body_chunk(std::string_view bytes) override;
    [[nodiscard]] imap::error_code on_body_end() override;
    [[nodiscard]] imap::error_code on_fetch(const imap::fetch_record& rec) override;

private:
    std::string body_;
    bool in_body_ = false;
};

// Feeds the chunks through fetch_response_handler; other responses are rendered with render().
[[nodiscard]] std::string fetch_transcript_of(const std::vector<std::string_view>& chunks,
                                              imap::response_parser::limits limits = {});

// Parses exactly one response from `bytes` (a gtest failure otherwise) and runs `check` on it.
void with_response(std::string_view bytes, const std::function<void(const imap::response&)>& check);

}  // namespace arrival::test
