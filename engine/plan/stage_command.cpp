#include "engine/plan/stage_command.hpp"

#include <filesystem>

#include "engine/plan/stage_table.hpp"

namespace arrival::plan {
namespace {

class builder {
public:
    builder(const run_plan& plan, const stage& st, const run_settings& run) : plan_(plan), st_(st), run_(run) {
        out_.stage = st.name;
        out_.argv.emplace_back(find_stage_spec(st.name)->command);
        out_.report = (std::filesystem::path(run.run_dir) / (st.name + ".json")).string();
    }

    void add(std::string flag, const std::string& value) {
        if (value.empty()) return;
        out_.argv.push_back(std::move(flag));
        out_.argv.push_back(value);
    }
    void flag(std::string f, bool on) {
        if (on) out_.argv.push_back(std::move(f));
    }

    // The credential `name` as `file_flag FILE`, or handed over in `env_var`.
    void credential(const std::string& name, const char* file_flag, const char* env_var) {
        if (name.empty()) return;
        const auto it = plan_.credentials.find(name);
        if (it == plan_.credentials.end()) return;   // the parser refused the plan already
        if (!it->second.file.empty()) add(file_flag, it->second.file);
        else if (it->second.env != env_var) out_.env.push_back({env_var, it->second.env});
    }

    void imap_stage(bool migrate) {
        const auto& src = *plan_.find_server("source");
        const auto& dst = *plan_.find_server("dest");
        add("--source", src.url);
        add("--dest", dst.url);
        add("--accounts", plan_.accounts);
        add("--source-ca-file", src.ca_file);
        add("--dest-ca-file", dst.ca_file);
        add("--source-admin", src.login);
        add("--dest-admin", dst.login);
        credential(src.credentials, "--source-password-file", "ARRIVAL_SOURCE_PASSWORD");
        credential(dst.credentials, "--dest-password-file", "ARRIVAL_DEST_PASSWORD");
        add("--dest-profile", dst.profile);
        flag("--insecure", src.insecure || dst.insecure);
        if (migrate) {
            add("--state-dir", (std::filesystem::path(run_.run_dir) / "migrate-state").string());
            shows_progress_ = true;
        }
    }

    // calendars, contacts, files and grants: one HTTP(S) destination and an admin acting for every user.
    void web_stage(const server& s, const std::string& dest) {
        add("--dest", dest);
        add("--accounts", plan_.accounts);
        add("--admin", s.login);
        credential(s.credentials, "--password-file", "ARRIVAL_PASSWORD");
        add("--ca-file", s.ca_file);
        flag("--insecure", s.insecure);
        add("--admin-url", s.admin_url);
        add("--carbonio-auth", s.carbonio_auth);
    }

    stage_command build() {
        const auto& n = st_.name;
        if (n == "provision") {
            const auto& l = *plan_.find_server("ldap");
            add("--ldap", l.url);
            add("--bind-dn", l.bind_dn);
            credential(l.credentials, "--bind-password-file", "ARRIVAL_LDAP_PASSWORD");
            add("--ca-file", l.ca_file);
            flag("--insecure", l.insecure);
            flag("--starttls", l.starttls);
        } else if (n == "migrate" || n == "verify" || n == "shares") {
            imap_stage(n == "migrate");
        } else if (n == "calendars" || n == "contacts") {
            const auto& dav = *plan_.find_server("dav");
            web_stage(dav, st_.dest.empty() ? dav.url : st_.dest);
            shows_progress_ = true;
        } else if (n == "files") {
            const auto& files = *plan_.find_server("files");
            web_stage(files, files.url);
            credential(st_.source_credentials, "--source-password-file", "ARRIVAL_SOURCE_PASSWORD");
            shows_progress_ = true;
        } else if (n == "grants") {
            // `arrival shares --from CSV`: its --dest names the Carbonio host as carbonio+https://HOST.
            const auto& carbonio = *plan_.find_server("carbonio");
            web_stage(carbonio, carbonio.url.rfind("carbonio+", 0) == 0 ? carbonio.url : "carbonio+" + carbonio.url);
        }
        flag("--allow-cleartext", plan_.allow_cleartext);
        if (run_.shard.sharded()) add("--shard", run_.shard.str());
        add("--report", out_.report);
        out_.argv.insert(out_.argv.end(), st_.args.begin(), st_.args.end());
        // How the progress is shown does not change what the stage does: it stays out of the identity.
        out_.identity = shell_line(out_.argv);
        if (shows_progress_) add("--progress", run_.progress);
        return std::move(out_);
    }

private:
    const run_plan& plan_;
    const stage& st_;
    const run_settings& run_;
    stage_command out_;
    bool shows_progress_ = false;
};

bool needs_quotes(const std::string& s) {
    if (s.empty()) return true;
    for (const char c : s) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           std::string_view("-_./:=@+,%{}").find(c) != std::string_view::npos;
        if (!plain) return true;
    }
    return false;
}

}  // namespace

stage_command build_stage_command(const run_plan& plan, const stage& st, const run_settings& run) {
    return builder(plan, st, run).build();
}

std::string shell_line(const std::vector<std::string>& argv) {
    std::string out = "arrival";
    for (const auto& a : argv) {
        out += ' ';
        if (!needs_quotes(a)) {
            out += a;
            continue;
        }
        out += '\'';
        for (const char c : a) {
            if (c == '\'') out += "'\\''";
            else out += c;
        }
        out += '\'';
    }
    return out;
}

}  // namespace arrival::plan
