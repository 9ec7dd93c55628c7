using System.Data.Common;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Stix;

/// <summary>
/// The <c>stix_object_alerts</c> table: which alerts carry a STIX object, by the UUID of its id (docs/decisions/0028).
/// STIX ids are UUIDv5 of the alert id and the object's role, which cannot be reversed, so every published version
/// records its objects in the batch that stores it, and TAXII object by id and <c>match[id]</c> look the alert up
/// instead of reading the collection. Rows are only added; the read checks the alert's objects as it builds them.
/// </summary>
public static class StixObjectIndex
{
    /// <summary>Objects every alert carries: not recorded, since any alert the caller may see in the collection has them.</summary>
    public static readonly IReadOnlySet<string> CarriedByEveryAlert = new HashSet<string>(StringComparer.Ordinal)
    {
        StixDefinitions.MarkingId(Tlp.Clear),
        StixDefinitions.SystemIdentityId,
        StixDefinitions.HandlingExtensionId,
        StixDefinitions.IdentifierExtensionId,
    };

    /// <summary>The UUID of a STIX id (<c>type--uuid</c>), or null when it is not one.</summary>
    public static Guid? KeyOf(string stixId)
    {
        var separator = stixId.IndexOf("--", StringComparison.Ordinal);
        return separator > 0 && Guid.TryParseExact(stixId.AsSpan(separator + 2), "D", out var key) ? key : null;
    }

    /// <summary>Adds the version's object keys to <paramref name="batch"/>: the objects its export builds, persons included.</summary>
    public static void AddVersion(SqlBatch batch, AlertView view) => AddVersions(batch, [view]);

    /// <summary>
    /// The object keys of many versions as one multi-row statement: a commit group of submissions writes every table
    /// once per group (ADR 25), this one included.
    /// </summary>
    public static void AddVersions(SqlBatch batch, IReadOnlyList<AlertView> views) =>
        AddKeys(batch, views.SelectMany(v => KeysOf(AlertStixObjects.FromAlert(v, revokedAt: null, includePersons: true)).Select(k => (k, v.Id))).ToList());

    private static IEnumerable<Guid> KeysOf(IEnumerable<JsonObject> objects) => objects
        .Select(o => (string)o["id"]!)
        .Where(id => !CarriedByEveryAlert.Contains(id))
        .Select(id => KeyOf(id)!.Value)
        .Distinct();

    private static void AddKeys(SqlBatch batch, List<(Guid Key, Guid AlertId)> rows)
    {
        var prefix = batch.NextName("sx");
        batch.AddRows(rows.Count, "INSERT INTO stix_object_alerts (object_key, alert_id)",
            i => $"({batch.Parameter($"{prefix}_{i}k", rows[i].Key)}, {batch.Parameter($"{prefix}_{i}a", rows[i].AlertId)})", "ON CONFLICT DO NOTHING");
    }

    /// <summary>
    /// The STIX objects of a stored alert, exactly as its export builds them: a revoked alert's last content, revoked;
    /// persons only when <paramref name="withPersons"/> (the request stated a purpose).
    /// </summary>
    public static async Task<List<JsonObject>> ObjectsOfAsync(
        DbConnection connection, Guid alertId, int version, string tlpName, string document, bool withPersons, CancellationToken cancellationToken)
    {
        var tlp = WireNames.TryParse<Tlp>(tlpName, out var marking) ? marking : Tlp.Red;
        string? revokedContent = null;
        if (document.Contains("\"status\":\"revoked\"", StringComparison.Ordinal))
        {
            revokedContent = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT document FROM alert_versions WHERE alert_id = @id AND version = @version",
                new { id = alertId, version = version - 1 }, cancellationToken: cancellationToken));
        }

        var objects = ExportAlertStix.ObjectsOf(new GetAlert.Found(version, document, tlp, revokedContent));
        return withPersons ? objects : objects.FindAll(o => !((string?)o["type"] == "identity" && (string?)o["identity_class"] == "individual"));
    }

    /// <summary>
    /// Indexes the alerts stored before the index existed (listed in <c>stix_index_backlog</c> by migration 21), at
    /// start, 200 at a time; when the backlog is empty this is one query that finds nothing. Safe beside another
    /// instance doing the same: rows are added with ON CONFLICT DO NOTHING.
    /// </summary>
    public sealed class Backfill(Database database) : IHostedService
    {
        private sealed record Stored
        {
            public Guid Id { get; init; }

            public int Version { get; init; }

            public string Tlp { get; init; } = null!;

            public string Document { get; init; } = null!;
        }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            while (true)
            {
                var page = (await connection.QueryAsync<Stored>(new CommandDefinition(
                    """
                    SELECT a.id AS Id, a.version AS Version, a.tlp AS Tlp, a.document AS Document
                    FROM stix_index_backlog b JOIN alerts a ON a.id = b.alert_id
                    ORDER BY b.alert_id LIMIT 200
                    """, cancellationToken: cancellationToken))).AsList();
                if (page.Count == 0)
                {
                    return;
                }

                var batch = new SqlBatch();
                foreach (var alert in page)
                {
                    var objects = await ObjectsOfAsync(connection, alert.Id, alert.Version, alert.Tlp, alert.Document, withPersons: true, cancellationToken);
                    var one = new SqlBatch();
                    AddKeys(one, KeysOf(objects).Select(k => (k, alert.Id)).ToList());
                    batch.Append(one);
                    batch.Append(new SqlBatch().Add("DELETE FROM stix_index_backlog WHERE alert_id = @Id", new { alert.Id }));
                }

                await using var write = await Database.BeginWriteAsync(connection, cancellationToken);

                var transaction = write.Transaction;
                await batch.ExecuteAsync(connection, transaction, cancellationToken);
                await write.CommitAsync(cancellationToken);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
