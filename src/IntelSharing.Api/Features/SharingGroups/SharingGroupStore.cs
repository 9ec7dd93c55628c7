using System.Data.Common;
using System.Text;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Problems;

namespace IntelSharing.Api.Features.SharingGroups;

/// <summary>The SQL the sharing-group slices share: reading groups with their members, checking and writing membership.</summary>
internal static class SharingGroupStore
{
    private sealed record GroupRow
    {
        public Guid Id { get; init; }

        public string Name { get; init; } = null!;

        public string? Description { get; init; }

        public string Visibility { get; init; } = null!;

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset UpdatedAt { get; init; }
    }

    private sealed record MemberRow
    {
        public Guid GroupId { get; init; }

        public Guid Id { get; init; }

        public string Name { get; init; } = null!;

        public string Country { get; init; } = null!;

        public bool IsActive { get; init; }
    }

    /// <summary>
    /// Every group, or the one with <paramref name="id"/>, with members ordered by name. With a <paramref name="viewer"/>,
    /// only the groups that agency may see: public ones and private ones it is a member of (a private group is, to anyone
    /// else, indistinguishable from one that does not exist). Without one (operators, the write slices), every group.
    /// </summary>
    public static async Task<List<SharingGroupView>> LoadAsync(
        DbConnection connection, DbTransaction? transaction, Guid? id, CancellationToken cancellationToken, Guid? viewer = null)
    {
        var (sql, parameters) = SelectGroups(id, viewer);
        sql.Append(" ORDER BY g.name, g.id");
        var groups = (await connection.QueryAsync<GroupRow>(new CommandDefinition(sql.ToString(), parameters, transaction, cancellationToken: cancellationToken))).AsList();
        return await WithMembersAsync(connection, transaction, groups, cancellationToken);
    }

    /// <summary>One page of the groups <paramref name="viewer"/> may see (every group without one), oldest first.</summary>
    public static async Task<(List<SharingGroupView> Items, string? NextCursor)> LoadPageAsync(
        DbConnection connection, Guid? viewer, KeysetPaging paging, IPagedQuery query, CancellationToken cancellationToken)
    {
        var (sql, parameters) = SelectGroups(null, viewer);
        paging.Append(sql, parameters, query, OldestFirst);
        var rows = (await connection.QueryAsync<GroupRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).AsList();
        var (page, next) = paging.Cut(rows, query, g => new KeysetCursor.Position(g.CreatedAt, g.Id));
        return (await WithMembersAsync(connection, null, page, cancellationToken), next);
    }

    private static readonly KeysetOrder OldestFirst = new(new("g.created_at", KeysetField.At), new("g.id", KeysetField.Id));

    private static (StringBuilder Sql, DynamicParameters Parameters) SelectGroups(Guid? id, Guid? viewer)
    {
        var sql = new StringBuilder(
            "SELECT g.id AS Id, g.name AS Name, g.description AS Description, g.visibility AS Visibility, g.created_at AS CreatedAt, g.updated_at AS UpdatedAt FROM sharing_groups g WHERE 1 = 1");
        if (id is not null)
        {
            sql.Append(" AND g.id = @id");
        }

        if (viewer is not null)
        {
            sql.Append(" AND ").Append(VisibleTo("g", "@viewer"));
        }

        return (sql, new DynamicParameters(new { id = id ?? Guid.Empty, viewer = viewer ?? Guid.Empty }));
    }

    private static async Task<List<SharingGroupView>> WithMembersAsync(DbConnection connection, DbTransaction? transaction, List<GroupRow> groups, CancellationToken cancellationToken)
    {
        if (groups.Count == 0)
        {
            return [];
        }

        var memberParameters = new DynamicParameters();
        var groupList = SqlLists.In(memberParameters, "g", groups.Select(g => g.Id).ToArray());
        var members = (await connection.QueryAsync<MemberRow>(new CommandDefinition(
            $"""
            SELECT m.group_id AS GroupId, a.id AS Id, a.name AS Name, a.country AS Country, a.is_active AS IsActive
            FROM sharing_group_members m JOIN agencies a ON a.id = m.agency_id
            WHERE m.group_id IN {groupList}
            ORDER BY a.name, a.id
            """,
            memberParameters, transaction, cancellationToken: cancellationToken))).ToLookup(m => m.GroupId);
        return groups.Select(g => new SharingGroupView(
            g.Id, g.Name, g.Description, VisibilityOf(g.Visibility),
            members[g.Id].Select(m => new SharingGroupMember(m.Id, m.Name, m.Country, m.IsActive)).ToList(),
            g.CreatedAt, g.UpdatedAt)).ToList();
    }

    // An unknown value in the column (written by hand) fails closed.
    private static SharingGroupVisibility VisibilityOf(string stored) =>
        WireNames.TryParse<SharingGroupVisibility>(stored, out var visibility) ? visibility : SharingGroupVisibility.Private;

    /// <summary>The SQL condition "the group aliased <paramref name="alias"/> is visible to the agency <paramref name="agency"/>" (public, or it is a member).</summary>
    public static string VisibleTo(string alias, string agency) =>
        $"({alias}.visibility = 'public' OR EXISTS (SELECT 1 FROM sharing_group_members vm WHERE vm.group_id = {alias}.id AND vm.agency_id = {agency}))";

    public static async Task<bool> ExistsAsync(DbConnection connection, DbTransaction transaction, Guid id, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM sharing_groups WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken)) > 0;

    /// <summary>A 400 naming <c>members[i]</c> for the first id that is no registered agency, or null when all are.</summary>
    public static async Task<Failure?> CheckAgenciesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<Guid> agencyIds, CancellationToken cancellationToken)
    {
        if (agencyIds.Count == 0)
        {
            return null;
        }

        var parameters = new DynamicParameters();
        var list = SqlLists.In(parameters, "a", agencyIds.ToArray());
        var known = (await connection.QueryAsync<Guid>(new CommandDefinition(
            $"SELECT id FROM agencies WHERE id IN {list}", parameters, transaction, cancellationToken: cancellationToken))).ToHashSet();
        for (var i = 0; i < agencyIds.Count; i++)
        {
            if (!known.Contains(agencyIds[i]))
            {
                return Failure.Invalid($"members[{i}]", $"No agency has the id {agencyIds[i]}.");
            }
        }

        return null;
    }

    public static async Task AddMembersAsync(DbConnection connection, DbTransaction transaction, Guid groupId, IEnumerable<Guid> agencyIds, DateTimeOffset now, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO sharing_group_members (group_id, agency_id, added_at) VALUES (@groupId, @agencyId, @now) ON CONFLICT (group_id, agency_id) DO NOTHING",
            agencyIds.Select(agencyId => new { groupId, agencyId, now }).ToList(), transaction, cancellationToken: cancellationToken));

    public static async Task TouchAsync(DbConnection connection, DbTransaction transaction, Guid groupId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE sharing_groups SET updated_at = @now WHERE id = @groupId", new { groupId, now }, transaction, cancellationToken: cancellationToken));
}
