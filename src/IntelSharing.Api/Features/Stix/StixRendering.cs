using System.Buffers;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Stix;

/// <summary>
/// The STIX objects of an alert's current version, rendered once when the version is written and stored as JSON in
/// <c>stix_renderings</c> (docs/decisions/0036). TAXII reads them as stored: a page parses them and writes each object
/// to the response as it is, where mapping the alert document again built every object as a tree on every read. A
/// version without a row of the current <see cref="Mapping"/> (revoked, expired, stored before migration 27, or
/// rendered by an older mapping) is rendered from its document at read time, exactly as before.
/// </summary>
public static class StixRendering
{
    /// <summary>
    /// The version of <see cref="AlertStixObjects"/>' mapping that stored rows were made with. Raise it with any change
    /// to what the mapping builds: rows of an older mapping are then ignored (rendered from the document at read), so a
    /// mapping change still applies to old alerts at once (ADR 18).
    /// </summary>
    public const int Mapping = 1;

    /// <summary>The objects as one JSON array, as stored.</summary>
    public static string Serialize(IEnumerable<JsonObject> objects) => Encoding.UTF8.GetString(Write(objects).WrittenSpan);

    /// <summary>The objects as one JSON array in UTF-8, as read back (<see cref="Columns"/>).</summary>
    public static byte[] SerializeUtf8(IEnumerable<JsonObject> objects) => Write(objects).WrittenSpan.ToArray();

    private static ArrayBufferWriter<byte> Write(IEnumerable<JsonObject> objects)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = StixDefinitions.Json.Encoder }))
        {
            writer.WriteStartArray();
            foreach (var stix in objects)
            {
                stix.WriteTo(writer, StixDefinitions.Json);
            }

            writer.WriteEndArray();
        }

        return buffer;
    }

    /// <summary>
    /// Stores (or replaces) each alert's rendering of the version being written, as multi-row statements in the batch
    /// that writes the version: no round trip of its own. A row is only ever replaced by a later version, or the same
    /// version under a later mapping, so the sweep at start cannot overwrite a newer version written meanwhile.
    /// </summary>
    public static void Add(SqlBatch batch, IReadOnlyList<(Guid AlertId, int Version, string Objects)> rows)
    {
        var prefix = batch.NextName("sr");
        batch.AddRows(rows.Count, "INSERT INTO stix_renderings (alert_id, version, mapping, objects)",
            i => $"({batch.Parameter($"{prefix}_{i}a", rows[i].AlertId)}, {batch.Parameter($"{prefix}_{i}v", rows[i].Version)}, " +
                $"{Mapping}, {batch.Parameter($"{prefix}_{i}o", rows[i].Objects)})",
            """
            ON CONFLICT (alert_id) DO UPDATE SET version = excluded.version, mapping = excluded.mapping, objects = excluded.objects
            WHERE stix_renderings.version < excluded.version
               OR (stix_renderings.version = excluded.version AND stix_renderings.mapping < excluded.mapping)
            """);
    }

    /// <summary>
    /// The columns a read selects beside <c>alerts a</c>: the stored rendering when it is the current version's under the
    /// current mapping, otherwise the document to render from (never both, so the document is not read for nothing). The
    /// rendering comes as its UTF-8 bytes (<c>byte[] Rendered</c>): a page parses some ten of them (20 KB each) and copies
    /// their objects out as UTF-8, which a string would have had decoded and then encoded again.
    /// </summary>
    public static string Columns(SqlDialect dialect) =>
        $"{dialect.Utf8Bytes("r.objects")} AS Rendered, CASE WHEN r.objects IS NULL THEN a.document END AS Document";

    /// <summary>The join that <see cref="Columns"/> reads from.</summary>
    public static string Join =>
        $"LEFT JOIN stix_renderings r ON r.alert_id = a.id AND r.version = a.version AND r.mapping = {Mapping}";

    /// <summary>
    /// The objects of one alert as a request serves them: the stored rendering, or the document rendered now; persons
    /// (individuals' identities) only when <paramref name="withPersons"/> (the request stated a purpose).
    /// </summary>
    public static async Task<RenderedAlert> OpenAsync(
        DbConnection connection, Guid alertId, int version, string tlp, byte[]? rendered, string? document, bool withPersons, CancellationToken cancellationToken)
    {
        rendered ??= SerializeUtf8(await StixObjectIndex.ObjectsOfAsync(
            connection, alertId, version, tlp, document ?? throw new InvalidOperationException($"Alert {alertId} was read with neither its rendering nor its document."),
            withPersons: true, cancellationToken));
        return RenderedAlert.Parse(rendered, withPersons);
    }

    /// <summary>
    /// Renders, after start and in the background, the active alerts that have no rendering of their current version
    /// under the current mapping: those stored before migration 27, and every alert once after a mapping change. Reads
    /// never wait for it (they render what has no row), so it does not hold up the start; one pass over the alerts by
    /// id, 200 at a time. Safe beside another instance doing the same, and beside new versions being written (the
    /// guarded upsert of <see cref="Add"/>).
    /// </summary>
    public sealed class Backfill(Database database, ILogger<Backfill> logger) : BackgroundService
    {
        private const int BatchSize = 200;

        private sealed record Stored
        {
            public Guid Id { get; init; }

            public int Version { get; init; }

            public string Tlp { get; init; } = null!;

            public string Document { get; init; } = null!;
        }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                var rendered = 0;
                Guid? after = null;
                while (true)
                {
                    await using var connection = await database.OpenAsync(stoppingToken);
                    var page = (await connection.QueryAsync<Stored>(new CommandDefinition(
                        $"""
                        SELECT a.id AS Id, a.version AS Version, a.tlp AS Tlp, a.document AS Document
                        FROM alerts a {Join}
                        WHERE r.alert_id IS NULL AND a.status = 'active' {(after is null ? "" : "AND a.id > @after")}
                        ORDER BY a.id LIMIT {BatchSize}
                        """, new { after }, cancellationToken: stoppingToken))).AsList();
                    if (page.Count == 0)
                    {
                        break;
                    }

                    var rows = new List<(Guid, int, string)>(page.Count);
                    foreach (var alert in page)
                    {
                        var objects = await StixObjectIndex.ObjectsOfAsync(connection, alert.Id, alert.Version, alert.Tlp, alert.Document, withPersons: true, stoppingToken);
                        rows.Add((alert.Id, alert.Version, Serialize(objects)));
                    }

                    await using (var write = await Database.BeginWriteAsync(connection, stoppingToken))
                    {
                        // Rendered outside the transaction: an alert revoked or expired since (its tombstone deleted the
                        // rendering with its persons) must not get the old version's row back. The rows are locked, so
                        // a tombstone waits for this commit and then deletes what it wrote.
                        var parameters = new DynamicParameters();
                        var ids = SqlLists.In(parameters, "id", page.Select(a => a.Id).ToList());
                        var current = (await connection.QueryAsync<(Guid Id, int Version)>(new CommandDefinition(
                            $"SELECT id, version FROM alerts WHERE id IN {ids} AND status = 'active' {database.Dialect.ForUpdate}",
                            parameters, write.Transaction, cancellationToken: stoppingToken))).ToHashSet();
                        var stillCurrent = rows.Where(r => current.Contains((r.Item1, r.Item2))).ToList();
                        if (stillCurrent.Count > 0)
                        {
                            var batch = new SqlBatch();
                            Add(batch, stillCurrent);
                            await batch.ExecuteAsync(connection, write.Transaction, stoppingToken);
                        }

                        await write.CommitAsync(stoppingToken);
                    }

                    rendered += page.Count;
                    after = page[^1].Id;
                }

                if (rendered > 0)
                {
                    logger.LogInformation("Rendered the STIX objects of {Count} alerts stored without them (mapping {Mapping})", rendered, Mapping);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: the rest is rendered at read, and swept again at the next start.
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or JsonException)
            {
                // Reads render what has no row, so a failed sweep costs speed, not answers; the next start tries again.
                logger.LogWarning(ex, "Rendering the STIX objects of stored alerts stopped; TAXII renders them at read until the next start");
            }
        }
    }

    /// <summary>One object of a <see cref="RenderedAlert"/>: its JSON as stored and the properties TAXII filters and lists by.</summary>
    public sealed record RenderedObject(JsonElement Json, string Id, string Type, string? SpecVersion, string? Version);

    /// <summary>The parsed objects of one alert; the elements live as long as this (dispose it after writing the response).</summary>
    public sealed class RenderedAlert : IDisposable
    {
        private readonly JsonDocument document;

        private RenderedAlert(JsonDocument document, List<RenderedObject> objects)
        {
            this.document = document;
            Objects = objects;
        }

        public IReadOnlyList<RenderedObject> Objects { get; }

        /// <summary>Parses <paramref name="json"/> in place: the elements are slices of that array, which must not change while this lives.</summary>
        public static RenderedAlert Parse(byte[] json, bool withPersons)
        {
            var document = JsonDocument.Parse(json.AsMemory());
            var objects = new List<RenderedObject>(document.RootElement.GetArrayLength());
            foreach (var stix in document.RootElement.EnumerateArray())
            {
                var type = stix.GetProperty("type").GetString()!;
                if (!withPersons && type == "identity" && stix.TryGetProperty("identity_class", out var kind) && kind.ValueEquals("individual"))
                {
                    continue;
                }

                objects.Add(new RenderedObject(stix, stix.GetProperty("id").GetString()!, type, Text(stix, "spec_version"), Text(stix, "modified") ?? Text(stix, "created")));
            }

            return new RenderedAlert(document, objects);
        }

        private static string? Text(JsonElement stix, string name) =>
            stix.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        public void Dispose() => document.Dispose();
    }
}
