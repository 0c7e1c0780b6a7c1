#!/usr/bin/env python3
"""Seedable generator of realistic Carbonio/Zimbra LDIF for arrival's provisioning tests and benchmarks.

Writes what `slapcat` of a Zimbra/Carbonio directory looks like: domains (dcObject + organization +
zimbraDomain), COSes under cn=cos,cn=zimbra, accounts under ou=people with {SSHA512} userPassword hashes,
zimbraMailAlias + zimbraAlias entries, signatures (zimbraSignatureName=...,uid=...), distribution lists with
members (local and external), a dynamic group per domain, non-ASCII names as base64 (`cn:: ...`), folded
long lines. Same seed, same bytes.

  ldif_gen.py --domains 3 --accounts 300 --seed 7 -o out.ldif
  ldif_gen.py --accounts 100000 --domains 4 -o big.ldif           # the benchmark input
  ldif_gen.py --domain example.test --names user%03d --accounts 4   # the testbed's mail accounts (the demo)
  ldif_gen.py --zimbra ...   adds what a Zimbra 10 export carries and Carbonio lacks: attributes missing from
                             carbonio.schema, the global config and server entries (which provisioning skips)
  ldif_gen.py --base ...     includes the base entries (cn=zimbra, cn=cos,cn=zimbra, ou=people, ...)
  --dl-csv FILE              also writes lists in Carbonio's CSV form (dl@domain,Description,Name,members...)
"""
import argparse, base64, hashlib, os, random, sys, uuid

NS = uuid.UUID("9b6a3f1e-0c43-4d2b-9a55-61727269766c")
FIRST = ["Anna", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Inês", "José", "Katja", "Lukas",
         "María", "Nils", "Olga", "Pedro", "Quentin", "Rosa", "Søren", "Tomás", "Ulla", "Valentina", "Wei", "Zoë"]
LAST = ["Almeida", "Bauer", "Castro", "Dubois", "Eriksen", "Fischer", "García", "Huber", "Ivanova", "Jensen",
        "Kowalski", "Lefèvre", "Müller", "Nowak", "Oliveira", "Petrov", "Rossi", "Schmidt", "Tanaka", "Weiß"]
# Present in Zimbra 10's schema, absent from Carbonio's (see tools/testbed/slapd/schema and the shared
# fixtures' zimbra/zimbra.schema).
ZIMBRA_ONLY_ACCOUNT = [("zimbraBlockEmailSendFromImapPop", "FALSE"), ("zimbraDefaultSortByRelevance", "TRUE"),
                       ("zimbraContactAffinityEventLoggingEnabled", "TRUE")]
ZIMBRA_ONLY_DOMAIN = [("zimbraDomainLoginPageEnabled", "FALSE")]


def uid(kind, name):
    return str(uuid.uuid5(NS, kind + ":" + name))


def ssha512(password, rnd):
    salt = bytes(rnd.getrandbits(8) for _ in range(8))
    return "{SSHA512}" + base64.b64encode(hashlib.sha512(password.encode() + salt).digest() + salt).decode()


def safe(v):
    if v == "" or v[0] in " :<" or v[-1] == " ":
        return v == ""
    return all(0x20 <= ord(c) < 0x7f for c in v)


def line(out, attr, value):
    if safe(value):
        text = f"{attr}: {value}"
    else:
        text = f"{attr}:: " + base64.b64encode(value.encode("utf-8")).decode()
    # Fold at 76 columns, as slapcat does (continuation lines start with one space).
    out.append(text[:76])
    rest = text[76:]
    while rest:
        out.append(" " + rest[:75])
        rest = rest[75:]


def entry(out, dn, attrs):
    line(out, "dn", dn)
    for a, v in attrs:
        line(out, a, v)
    out.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domains", type=int, default=3)
    ap.add_argument("--accounts", type=int, default=300, help="total, spread over the domains")
    ap.add_argument("--cos", type=int, default=3)
    ap.add_argument("--lists", type=int, default=4, help="distribution lists per domain")
    ap.add_argument("--members", type=int, default=12, help="members per list")
    ap.add_argument("--alias-ratio", type=float, default=0.3)
    ap.add_argument("--signature-ratio", type=float, default=0.5)
    ap.add_argument("--domain-prefix", default="example", help="domains are <prefix>N.test (N from 1)")
    ap.add_argument("--domain", action="append", default=[],
                    help="exact domain name (repeatable; replaces --domains/--domain-prefix), e.g. example.test")
    ap.add_argument("--names", default="user%05d",
                    help="printf format of the account names, numbered from 1 in each domain (default user%%05d; "
                         "user%%03d gives the testbed's user001@example.test...)")
    ap.add_argument("--zimbra", action="store_true")
    ap.add_argument("--base", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dl-csv")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    out = ["version: 1", ""]
    buf = open(a.output, "w", encoding="utf-8", newline="\n") if a.output != "-" else sys.stdout

    def flush():
        if len(out) > 20000:
            buf.write("\n".join(out) + "\n")
            out.clear()

    if a.base:
        for dn, cn in [("cn=zimbra", "zimbra"), ("cn=admins,cn=zimbra", "admins"), ("cn=cos,cn=zimbra", "cos"),
                       ("cn=servers,cn=zimbra", "servers")]:
            entry(out, dn, [("objectClass", "organizationalRole"), ("cn", cn)])
    if a.zimbra:
        entry(out, "cn=config,cn=zimbra", [("objectClass", "organizationalRole"), ("objectClass", "zimbraGlobalConfig"),
                                          ("cn", "config"), ("zimbraBackupBlobsCompressType", "zstd")])
        entry(out, "cn=mail.old.example,cn=servers,cn=zimbra",
              [("objectClass", "zimbraServer"), ("cn", "mail.old.example"), ("zimbraId", uid("server", "old")),
               ("zimbraServiceHostname", "mail.old.example")])
    cos_ids = []
    for c in range(a.cos):
        name = "default" if c == 0 else f"cos{c}"
        cid = uid("cos", name)
        cos_ids.append(cid)
        attrs = [("objectClass", "zimbraCOS"), ("cn", name), ("zimbraId", cid), ("description", f"{name} class of service"),
                 ("zimbraMailQuota", str((c + 1) * 1073741824)), ("zimbraFeatureCalendarEnabled", "TRUE"),
                 ("zimbraPrefLocale", "en")]
        if a.zimbra:
            attrs.append(("zimbraBlockEmailSendFromImapPop", "FALSE"))
        entry(out, f"cn={name},cn=cos,cn=zimbra", attrs)

    domains = a.domain or [f"{a.domain_prefix}{d + 1}.test" for d in range(a.domains)]
    a.domains = len(domains)
    per = [a.accounts // a.domains + (1 if d < a.accounts % a.domains else 0) for d in range(a.domains)]
    csv_rows = []
    for d, dom in enumerate(domains):
        labels = dom.split(".")
        ddn = ",".join("dc=" + l for l in labels)
        did = uid("domain", dom)
        attrs = [("objectClass", "dcObject"), ("objectClass", "organization"), ("objectClass", "zimbraDomain"),
                 ("objectClass", "amavisAccount"), ("dc", labels[0]), ("o", f"{dom} domain"),
                 ("zimbraDomainName", dom), ("zimbraDomainType", "local"), ("zimbraDomainStatus", "active"),
                 ("zimbraId", did), ("zimbraMailStatus", "enabled"), ("zimbraDomainDefaultCOSId", cos_ids[0]),
                 ("zimbraCreateTimestamp", "20230115093000Z")]
        if a.zimbra:
            attrs += ZIMBRA_ONLY_DOMAIN
        entry(out, ddn, attrs)
        if a.base:
            entry(out, f"ou=people,{ddn}", [("objectClass", "organizationalRole"), ("ou", "people"), ("cn", "people")])
            entry(out, f"cn=groups,{ddn}", [("objectClass", "organizationalRole"), ("cn", "groups")])
        users = []
        for u in range(per[d]):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            name = a.names % (u + 1)
            addr = f"{name}@{dom}"
            aid = uid("account", addr)
            users.append(addr)
            attrs = [("objectClass", "inetOrgPerson"), ("objectClass", "zimbraAccount"), ("objectClass", "amavisAccount"),
                     ("uid", name), ("cn", f"{first} {last}"), ("sn", last), ("givenName", first),
                     ("displayName", f"{first} {last}"), ("mail", addr), ("zimbraMailDeliveryAddress", addr),
                     ("zimbraAccountStatus", "active"), ("zimbraMailStatus", "enabled"), ("zimbraId", aid),
                     ("zimbraCOSId", cos_ids[u % len(cos_ids)]), ("zimbraMailHost", "mail.old.example"),
                     ("zimbraMailTransport", "lmtp:mail.old.example:7025"),
                     ("userPassword", ssha512(f"pw-{addr}", rnd)), ("zimbraCreateTimestamp", "20230115093000Z"),
                     ("zimbraPrefFromDisplay", f"{first} {last}"), ("zimbraMailQuota", "0"),
                     ("zimbraPrefTimeZoneId", "Europe/Berlin")]
            alias = None
            if rnd.random() < a.alias_ratio:
                alias = f"{name}.alias@{dom}"
                attrs += [("mail", alias), ("zimbraMailAlias", alias)]
            sig = None
            if rnd.random() < a.signature_ratio:
                sig = uid("signature", addr)
                attrs.append(("zimbraPrefDefaultSignatureId", sig))
            if a.zimbra:
                attrs += ZIMBRA_ONLY_ACCOUNT
            adn = f"uid={name},ou=people,{ddn}"
            entry(out, adn, attrs)
            if alias:
                entry(out, f"uid={name}.alias,ou=people,{ddn}",
                      [("objectClass", "zimbraAlias"), ("uid", f"{name}.alias"), ("zimbraId", uid("alias", alias)),
                       ("zimbraAliasTargetId", aid)])
            if sig:
                entry(out, f"zimbraSignatureName=Default,{adn}",
                      [("objectClass", "zimbraSignature"), ("zimbraSignatureName", "Default"), ("zimbraSignatureId", sig),
                       ("zimbraPrefMailSignature", f"-- \n{first} {last}\n{dom}")])
            flush()
        for l in range(min(a.lists, max(1, len(users)))):
            lname = f"team{l + 1}"
            laddr = f"{lname}@{dom}"
            members = rnd.sample(users, min(a.members, len(users))) + [f"partner{l + 1}@external.example.org"]
            attrs = [("objectClass", "zimbraDistributionList"), ("objectClass", "zimbraMailRecipient"), ("uid", lname),
                     ("mail", laddr), ("zimbraMailStatus", "enabled"), ("zimbraId", uid("list", laddr)),
                     ("displayName", f"Team {l + 1}"), ("description", f"team {l + 1} of {dom}")]
            attrs += [("zimbraMailForwardingAddress", m) for m in members]
            entry(out, f"uid={lname},ou=people,{ddn}", attrs)
            csv_rows.append((f"csv-{lname}@{dom}", f"CSV list {l + 1}", f"CSV Team {l + 1}", members[:5]))
        gid = uid("group", f"allstaff@{dom}")
        entry(out, f"cn=allstaff,cn=groups,{ddn}",
              [("objectClass", "groupOfURLs"), ("objectClass", "dgIdentityAux"), ("objectClass", "zimbraGroup"),
               ("objectClass", "zimbraMailRecipient"), ("cn", "allstaff"),
               ("mail", f"allstaff@{dom}"), ("zimbraId", gid), ("zimbraIsACLGroup", "FALSE"),
               ("zimbraMailStatus", "enabled"),
               ("memberURL", f"ldap:///??sub?(|(zimbraMemberOf={gid})(zimbraId={gid}))")])
    buf.write("\n".join(out) + "\n")
    if buf is not sys.stdout:
        buf.close()
    if a.dl_csv:
        with open(a.dl_csv, "w", encoding="utf-8") as f:
            for addr, desc, name, members in csv_rows:
                f.write(",".join([addr, desc, f'"{name}"'] + members) + "\n")


if __name__ == "__main__":
    main()
