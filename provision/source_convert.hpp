// Entries from a generic OpenLDAP (inetOrgPerson / posixAccount people, groupOfNames lists, a dcObject +
// organization root) turned into Carbonio's shape:
//   dc=example,dc=com (dcObject/organization/domain, with no zimbraDomain anywhere for example.com)
//       -> gains zimbraDomain (zimbraDomainName, zimbraDomainType=local, zimbraDomainStatus=active, zimbraId)
//   a person with mail user@example.com -> uid=user,ou=people,dc=example,dc=com with inetOrgPerson +
//       zimbraAccount + amavisAccount, zimbraMailDeliveryAddress, zimbraAccountStatus=active, zimbraId;
//       cn/sn/givenName/displayName/telephoneNumber/... kept; userPassword kept verbatim ({SSHA}, {CRYPT}...);
//       posixAccount/shadowAccount attributes dropped (Carbonio does not use them) and counted
//   groupOfNames/groupOfUniqueNames with mail -> zimbraDistributionList whose members are the members' mail
// zimbraIds are name-based UUIDs of the source DN, so a rerun gives the same ids. People without mail are
// reported (error: an account needs an address).
#pragma once
#include <cstddef>
#include <vector>

#include "provision/directory_model.hpp"
#include "provision/problem.hpp"

namespace arrival::provision {

struct convert_result {
    std::size_t domains = 0, accounts = 0, lists = 0, dropped_values = 0;
};

// Call after index(). Re-indexes.
convert_result convert_generic_sources(directory_model& model, std::vector<problem>& out);

}  // namespace arrival::provision
