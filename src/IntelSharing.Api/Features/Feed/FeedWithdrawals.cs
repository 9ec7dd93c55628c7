using System.Data.Common;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Feed;

/// <summary>
/// <c>alert.withdrawn</c>: the feed entry that tells an agency it was dropped from an alert's audience by a new version
/// (a narrower audience, a stricter TLP). The feed decides every other entry against the alert as it is when read,
/// so without this a dropped agency would simply stop seeing the alert, unable to tell a withdrawal from silence.
/// The entry names one recipient and carries no content: the alert id, the version that dropped it, the time.
/// </summary>
public static class FeedWithdrawals
{
    public const string Type = "alert.withdrawn";

    /// <summary>
    /// The agencies (not the originator) that may see the alert now, in the publishing transaction before the new
    /// version is written, which <paramref name="next"/> no longer lets see it. Nothing to read when the new version
    /// is open to every partner (TLP:CLEAR, GREEN, or AMBER without an audience).
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> DroppedByAsync(DbConnection connection, DbTransaction transaction, AlertView next, CancellationToken cancellationToken)
    {
        var audience = next.Audience.Select(a => a.Id).ToHashSet();
        if (next.Tlp is Tlp.Clear or Tlp.Green || (next.Tlp == Tlp.Amber && audience.Count == 0))
        {
            return [];
        }

        var seeing = await connection.QueryAsync<Guid>(new CommandDefinition(
            $"""
            SELECT ag.id FROM agencies ag JOIN alerts a ON a.id = @id
            WHERE ag.id <> a.originator_id AND {SharingPolicy.VisibleSql("a", "ag.id")}
            """,
            new { id = next.Id }, transaction, cancellationToken: cancellationToken));
        return [.. seeing.Where(agency => !SharingPolicy.MaySee(
            agency, new AlertAccess(next.Originator.Id, next.Tlp, audience.Count > 0, audience.Contains(agency), AgencyActive: true)))];
    }

    /// <summary>One entry per dropped agency, written with the version; the sequencer positions them after commit like any change.</summary>
    public static void Add(SqlBatch batch, AlertView next, IReadOnlyList<Guid> dropped)
    {
        var alert = batch.Parameter("Id", next.Id);
        var version = batch.Parameter("Version", next.Version);
        var at = batch.Parameter("UpdatedAt", next.UpdatedAt);
        var type = batch.Parameter("withdrawnType", Type);
        batch.AddRows(dropped.Count, "INSERT INTO feed_changes (type, alert_id, alert_version, recipient_id, created_at)",
            i => $"({type}, {alert}, {version}, {batch.Parameter($"withdrawnFrom{i}", dropped[i])}, {at})");
    }
}
