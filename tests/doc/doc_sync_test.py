#!/usr/bin/env python3
"""The manual, the completion and the CLI name the same flags (issue 11: they must not drift).

  doc_sync_test.py ARRIVAL_EXE ARRIVAL_1 COMPLETION_BASH

For every command `arrival --help` lists:
  - every flag its `--help` lists is offered by the bash completion for that command, and the completion
    offers no flag the command lacks (the completion function itself runs, in bash, as on a command line);
  - every flag its `--help` lists appears in that command's section of the generated man page (whose text
    is doc/<page>.md), and every flag a table row of that section's "Options" names is one the command has;
  - the man page's SYNOPSIS and the completion list every command.
Prints each mismatch; exit status 1 if there is any.
"""
import functools
import re
import subprocess
import sys

FLAG = re.compile(r"--[a-z][a-z0-9-]*")


def run(*argv: str) -> str:
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit status {p.returncode}\n{p.stderr}")
    return p.stdout


def commands(exe: str) -> list[str]:
    out = run(exe, "--help")
    block = out.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


@functools.cache
def help_flags(exe: str, cmd: str) -> frozenset[str]:
    """The flags of CLI11's option list: the first column of lines that start with an option."""
    flags = set()
    for line in run(exe, cmd, "--help").splitlines():
        m = re.match(r"^\s+(-\w,)?(--[a-z][a-z0-9-]*)", line)
        if m:
            flags.add(m.group(2))
    flags.discard("--help")
    return frozenset(flags)


def completion(script: str, words: list[str]) -> set[str]:
    """COMPREPLY of the completion function for the command line `words` (the last one being completed)."""
    prog = (f'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
            f'fn=$(complete -p arrival | sed -E "s/.*-F ([^ ]+).*/\\1/"); "$fn"; printf "%s\\n" "${{COMPREPLY[@]}}"')
    return {w for w in run("bash", "-c", prog, "bash", script, *words).split("\n") if w}


def man_sections(path: str) -> dict[str, str]:
    text = open(path, encoding="ascii").read().replace("\\-", "-")
    sections = {}
    for part in re.split(r"^\.SH ", text, flags=re.M)[1:]:
        title, _, body = part.partition("\n")
        sections[title.strip('"')] = body
    return sections


def option_rows(section: str) -> set[str]:
    """Flags named in the tag of a .TP row under an "Options..." subsection."""
    flags = set()
    for sub in re.split(r"^\.SS ", section, flags=re.M)[1:]:
        title, _, body = sub.partition("\n")
        if not title.strip('"').startswith("Options"):
            continue
        for m in re.finditer(r"^\.TP\n(.*)$", body, flags=re.M):
            flags |= set(FLAG.findall(m.group(1)))
    return flags


def main(exe: str, man: str, script: str) -> int:
    problems = []
    cmds = commands(exe)
    if len(cmds) < 7:
        problems.append(f"arrival --help lists only {cmds}")
    offered = completion(script, ["arrival", ""])
    for c in cmds:
        if c not in offered:
            problems.append(f"completion: command {c} not offered (tools/completion/arrival.bash: _arrival_commands)")
    sections = man_sections(man)
    for c in cmds:
        if not re.search(rf"^\.B arrival {c}$", sections.get("SYNOPSIS", ""), flags=re.M):
            problems.append(f"man page: {c} missing from SYNOPSIS (README.md's command table)")

    for c in cmds:
        flags = help_flags(exe, c)
        if not flags:
            problems.append(f"arrival {c} --help: no flags found (has the help format changed?)")
        comp = completion(script, ["arrival", c, "--"]) - {"--help"}
        for f in sorted(flags - comp):
            problems.append(f"completion: arrival {c} {f} is not offered (tools/completion/arrival.bash: _arrival_flags)")
        for f in sorted(comp - flags):
            problems.append(f"completion: arrival {c} offers {f}, which --help does not list")

        titles = [t for t in sections if re.search(rf"\bARRIVAL {c.upper()}\b", t)]
        if len(titles) != 1:
            problems.append(f"man page: {len(titles)} sections for arrival {c}: {titles} (its doc page, titled '# arrival {c}', belongs in doc/meson.build's man_pages)")
            continue
        body = sections[titles[0]]
        # Flags of every command sharing the section (migrate and verify share one page).
        siblings = set()
        for other in cmds:
            if re.search(rf"\bARRIVAL {other.upper()}\b", titles[0]):
                siblings |= help_flags(exe, other)
        for f in sorted(flags):
            if not re.search(re.escape(f) + r"(?![a-z0-9-])", body):
                problems.append(f"man page: arrival {c} {f} is not in section {titles[0]} (document it on that doc page)")
        for f in sorted(option_rows(body) - siblings - {"--help"}):
            problems.append(f"man page: section {titles[0]} lists {f} as an option, which no command of it has")

    problems = list(dict.fromkeys(problems))  # a page two commands share reports once
    for p in problems:
        print(p)
    print(f"{len(cmds)} commands checked; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
