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
    /// <summary>
    /// Objects that belong to no alert: the five TLP 2.0 marking definitions (FIRST's, public), IntelSharing's identity
    /// and its two extension definitions. They are the same whoever asks and say nothing about any alert, so object by
    /// id serves them to anyone who may read the collection without reading an alert, and they are not recorded in
    /// the index (ADR 36). Their date added is their <c>created</c>: they were in every collection from the start.
    /// </summary>
    private static readonly StixRendering.RenderedAlert UniversalObjects = StixRendering.RenderedAlert.Parse(StixRendering.SerializeUtf8(
        [.. Enum.GetValues<Tlp>().Select(StixDefinitions.Marking), StixDefinitions.SystemIdentity(), StixDefinitions.HandlingExtension(), StixDefinitions.IdentifierExtension()]),
        withPersons: false);

    private static readonly Dictionary<string, (StixRendering.RenderedObject Object, DateTimeOffset DateAdded)> UniversalById = UniversalObjects.Objects.ToDictionary(
        o => o.Id, o => (o, DateTimeOffset.Parse(o.Json.GetProperty("created").GetString()!, System.Globalization.CultureInfo.InvariantCulture)), StringComparer.Ordinal);

    /// <summary>The object that belongs to no alert with this id, and its date added; null for any other id.</summary>
    public static (StixRendering.RenderedObject Object, DateTimeOffset DateAdded)? Universal(string stixId) =>
        UniversalById.TryGetValue(stixId, out var universal) ? universal : null;

    /// <summary>The UUID of a STIX id (<c>type--uuid</c>), or null when it is not one.</summary>
    public static Guid? KeyOf(string stixId)
    {
        var separator = stixId.IndexOf("--", StringComparison.Ordinal);
        return separator > 0 && Guid.TryParseExact(stixId.AsSpan(separator + 2), "D", out var key) ? key : null;
    }

    /// <summary>
    /// Adds the version's object keys to <paramref name="batch"/> (the objects its export builds, persons included), and
    /// the objects themselves as the version's <see cref="StixRendering"/>.
    /// </summary>
    public static void AddVersion(SqlBatch batch, AlertView view) => AddVersions(batch, [view]);

    /// <summary>
    /// The object keys and renderings of many versions as one multi-row statement each: a commit group of submissions
    /// writes every table once per group (ADR 25), these included. The objects are built once for both.
    /// </summary>
    public static void AddVersions(SqlBatch batch, IReadOnlyList<AlertView> views)
    {
        var built = views.Select(v => (View: v, Objects: AlertStixObjects.FromAlert(v, revokedAt: null, includePersons: true))).ToList();
        AddKeys(batch, built.SelectMany(b => KeysOf(b.Objects).Select(k => (k, b.View.Id))).ToList());
        StixRendering.Add(batch, built.Select(b => (b.View.Id, b.View.Version, StixRendering.Serialize(b.Objects))).ToList());
    }

    private static IEnumerable<Guid> KeysOf(IEnumerable<JsonObject> objects) => objects
        .Select(o => (string)o["id"]!)
        .Where(id => !UniversalById.ContainsKey(id))
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
