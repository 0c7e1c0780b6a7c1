// What goes with an error_code, split as Boost.MySQL's diagnostics are: the text we wrote (ASCII, safe to log,
// never credentials) apart from the text the server wrote (untrusted; it may echo what we sent, which is why
// only the redacted rendering of a command is ever stored here).
#pragma once
#include <string>
#include <string_view>

namespace arrival::imap {

class diagnostics {
public:
    // Ours: "line 3: unterminated quoted string", "modified UTF-7 at byte 4: encoded printable ASCII".
    [[nodiscard]] const std::string& client_message() const noexcept { return client_message_; }
    // The server's reply text after the status and the response code ("Quota exceeded (mailbox for user)").
    [[nodiscard]] const std::string& server_message() const noexcept { return server_message_; }
    // The raw response code, e.g. "OVERQUOTA" or "APPENDUID 38505 3955"; empty when the server sent none.
    [[nodiscard]] const std::string& response_code() const noexcept { return response_code_; }
    // The command as it may be logged: tag and verb with secrets replaced ("A00002 LOGIN "bob" <password>").
    [[nodiscard]] const std::string& command() const noexcept { return command_; }

    void set_client_message(std::string s) { client_message_ = std::move(s); }
    void set_server_message(std::string_view s) { server_message_.assign(s); }
    void set_response_code(std::string_view s) { response_code_.assign(s); }
    void set_command(std::string_view s) { command_.assign(s); }
    void clear() noexcept {
        client_message_.clear();
        server_message_.clear();
        response_code_.clear();
        command_.clear();
    }

    // One line for error messages: "A00002 LOGIN "bob" <password>: [AUTHENTICATIONFAILED] Authentication
    // failed." or the client message when there is no server reply. Control characters are escaped.
    [[nodiscard]] std::string to_string() const;

private:
    std::string client_message_;
    std::string server_message_;
    std::string response_code_;
    std::string command_;
};

}  // namespace arrival::imap
