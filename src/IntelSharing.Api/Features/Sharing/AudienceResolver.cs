using System.Data.Common;
using Dapper;
using IntelSharing.Api.Features.SharingGroups;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;

namespace IntelSharing.Api.Features.Sharing;

/// <summary>
/// Turns an alert's requested audience into the agencies it is shared with when a version is published:
/// the named agencies (each must be active) plus the members of the named sharing groups that are active
/// at that moment. The result is what <c>alert_audience</c> fixes for the version; <see cref="SharingPolicy"/>
/// reads only that, so later membership changes never widen or narrow a published version.
/// </summary>
public static class AudienceResolver
{
    public sealed record Resolution(AgencyRef Originator, IReadOnlyList<AgencyRef> Audience, IReadOnlyList<SharingGroupRef> Groups);

    public static async Task<Result<Resolution>> ResolveAsync(DbConnection connection, Guid originatorId, AudienceInput? requested, CancellationToken cancellationToken)
    {
        var agencyIds = requested?.Agencies ?? [];
        var groupIds = requested?.Groups ?? [];

        var parameters = new DynamicParameters();
        var ids = SqlLists.In(parameters, "id", agencyIds.Append(originatorId).Distinct().ToArray());
        var agencies = (await connection.QueryAsync<AgencyRef>(new CommandDefinition(
            $"SELECT id AS Id, name AS Name, country AS Country FROM agencies WHERE is_active AND id IN {ids}",
            parameters, cancellationToken: cancellationToken))).ToDictionary(a => a.Id);

        for (var i = 0; i < agencyIds.Count; i++)
        {
            if (!agencies.ContainsKey(agencyIds[i]))
            {
                return Failure.Invalid($"audience.agencies[{i}]", $"No active agency has the id {agencyIds[i]}.");
            }
        }

        if (!agencies.TryGetValue(originatorId, out var originator))
        {
            // The key was valid a moment ago; the agency was deactivated since. Nothing may be published for it.
            return Failure.Forbidden("Your agency is deactivated.");
        }

        var audience = agencyIds.Select(id => agencies[id]).ToList();
        if (groupIds.Count == 0)
        {
            return new Resolution(originator, audience, []);
        }

        var groupParameters = new DynamicParameters();
        var groupList = SqlLists.In(groupParameters, "g", groupIds.ToArray());
        groupParameters.Add("originator", originatorId);
        // A private group the originator is not a member of is answered exactly as a group that does not exist.
        var groups = (await connection.QueryAsync<SharingGroupRef>(new CommandDefinition(
            $"SELECT g.id AS Id, g.name AS Name FROM sharing_groups g WHERE g.id IN {groupList} AND {SharingGroupStore.VisibleTo("g", "@originator")}",
            groupParameters, cancellationToken: cancellationToken))).ToDictionary(g => g.Id);
        for (var i = 0; i < groupIds.Count; i++)
        {
            // Groups are named only on amber and stricter alerts (AlertInputValidator), whose audience only their recipients read.
            if (!groups.ContainsKey(groupIds[i]))
            {
                return Failure.Invalid($"audience.groups[{i}]", $"No sharing group has the id {groupIds[i]}.");
            }
        }

        var members = await connection.QueryAsync<AgencyRef>(new CommandDefinition(
            $"""
            SELECT DISTINCT a.id AS Id, a.name AS Name, a.country AS Country
            FROM sharing_group_members m JOIN agencies a ON a.id = m.agency_id
            WHERE m.group_id IN {groupList} AND a.is_active
            ORDER BY a.name, a.id
            """,
            groupParameters, cancellationToken: cancellationToken));
        var named = audience.Select(a => a.Id).ToHashSet();
        audience.AddRange(members.Where(m => named.Add(m.Id)));

        if (audience.Count == 0)
        {
            // An amber alert with an empty audience would go to every partner: never let naming an empty group widen it.
            return Failure.Invalid("audience.groups", "The named sharing groups have no active members, so nobody could receive the alert. Name agencies or groups with active members.");
        }

        return new Resolution(originator, audience, groupIds.Select(id => groups[id]).ToList());
    }
}
