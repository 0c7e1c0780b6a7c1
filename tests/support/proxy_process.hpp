// A test's helper process that prints its listening port on stdout once it accepts connections and logs
// events on stderr: tools/testbed/tcp-proxy, tools/testbed/http-fault. Started with fork/exec, its stderr
// going to `log`; stop() sends SIGTERM, waits, and returns the log (every line the helper wrote).
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace arrival::test {

class proxy_process {
public:
    proxy_process(std::vector<std::string> argv, std::filesystem::path log) : log_(std::move(log)) {
        int out[2];
        if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) ::dup2(fd, STDERR_FILENO);
            ::close(out[0]);
            std::vector<char*> cargv;
            for (auto& a : argv) cargv.push_back(a.data());
            cargv.push_back(nullptr);
            ::execv(cargv[0], cargv.data());
            _exit(127);
        }
        ::close(out[1]);
        std::string line;
        char c;
        while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
        ::close(out[0]);
        if (line.empty()) throw std::runtime_error(argv[0] + " did not start: " + read_log());
        port_ = std::stoi(line);
    }
    ~proxy_process() { stop(); }
    proxy_process(const proxy_process&) = delete;
    proxy_process& operator=(const proxy_process&) = delete;

    int port() const { return port_; }
    // Stops the helper (it logs what it still holds first) and returns its log.
    std::string stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int st = 0;
            ::waitpid(pid_, &st, 0);
            pid_ = -1;
        }
        return read_log();
    }
    std::string read_log() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    std::filesystem::path log_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace arrival::test
