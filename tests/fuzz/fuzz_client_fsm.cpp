// libFuzzer target: the sans-I/O IMAP client (client_fsm + every operation) against an arbitrary server byte
// stream, fed in input-chosen splits, with the driver's duties done inline (writes drained, TLS handshakes
// "done"). Must never crash, leak, hang or trip a sanitizer, and once the connection fails every operation
// started must be complete (an awaiting coroutine would otherwise hang), each exactly once. Input layout: byte
// 0 picks the inline-literal limit, the pipeline depth and the LITERAL+ cap; byte 1 seeds the chunk sizes and
// whether the writer holds its last view across the next chunk (a write whose completion the reader overtakes);
// the rest is the server's byte stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/imap/client_fsm.hpp"
#include "protocol/imap/client_ops.hpp"

namespace {

using namespace arrival::imap;

class null_sink final : public fetch_handler {
public:
    error_code on_body_begin(const fetch_part&, std::uint64_t) override { return {}; }
    error_code on_body_chunk(std::string_view) override { return {}; }
    error_code on_body_end() override { return {}; }
    error_code on_fetch(const fetch_record&) override { return {}; }
};

void drain(client_fsm& fsm) {
    for (int i = 0; i < 64; ++i) {
        const std::string_view w = fsm.prepare_write();
        if (w.empty()) return;
        fsm.commit_write(w.size());
    }
}

command must(error_code ec, command&& cmd) {
    if (ec) std::abort();
    return std::move(cmd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    client_fsm::options o;
    o.parser_limits.max_inline_literal = 1 + data[0] % 64;
    o.max_in_flight = 1 + data[0] % 5;
    o.literal_plus_max = data[0] % 16;
    unsigned seed = data[1];
    std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);

    imap_url url;
    url.host = "fuzz.test";
    url.port = 143;
    url.tls = tls_mode::starttls_if_offered;
    const credentials cred{.user = "bob", .admin = "admin", .password = "secret"};
    std::vector<append_message> msgs(2);
    msgs[0].flags = {"\\Seen"};
    msgs[0].body = "Subject: a\r\n\r\nbody\r\n";
    msgs[1].body = "Subject: b\r\n\r\nanother body\r\n";
    null_sink sink;
    const std::string_view items[] = {"MESSAGES", "UIDNEXT", "UIDVALIDITY"};

    client_fsm fsm(o);
    connect_op connect(url);
    login_op login(cred);
    list_op list("", "*", false);
    command cmd;
    select_op select("INBOX", false, must(encode_select("INBOX", false, false, fsm.encoder(), cmd), std::move(cmd)));
    status_op status(must(encode_status("Sent", items, fsm.encoder(), cmd), std::move(cmd)));
    fetch_op fetch(must(encode_uid_fetch("1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])", cmd), std::move(cmd)), sink);
    append_op append("Sent", msgs);
    simple_op logout(encode_simple("LOGOUT"));
    operation* const ops[] = {&login, &list, &select, &status, &fetch, &append, &logout};

    int completions[std::size(ops)] = {};
    for (std::size_t i = 0; i < std::size(ops); ++i) ops[i]->on_done = [&completions, i] { ++completions[i]; };

    fsm.start(connect);
    bool started = false;
    std::size_t held = 0;  // bytes handed to the "writer" and not yet committed
    while (!fsm.closed()) {
        if (held != 0) {
            fsm.commit_write(held);
            held = 0;
        }
        if (fsm.tls_handshake_due()) fsm.tls_handshake_done({}, "");
        if (connect.done() && !started) {
            started = true;
            for (operation* op : ops) fsm.start(*op);
        }
        drain(fsm);
        if (in.empty()) break;
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 12) & 1) held = fsm.prepare_write().size();
        const std::size_t n = std::min<std::size_t>(in.size(), 1 + (seed >> 16) % 97);
        if (const auto ec = fsm.feed(in.substr(0, n))) fsm.fail_all(ec, fsm.failure());
        in.remove_prefix(n);
    }
    fsm.fail_all(make_error_code(errc::connection_closed), "end of input");
    if (!connect.done()) std::abort();
    for (std::size_t i = 0; i < std::size(ops); ++i) {
        if (started && !ops[i]->done()) std::abort();
        if (completions[i] != (started ? 1 : 0)) std::abort();
    }
    return 0;
}
