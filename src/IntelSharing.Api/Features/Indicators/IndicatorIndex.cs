using System.Security.Cryptography;
using System.Text;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Alerts;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Indicators;

/// <summary>
/// The <c>alert_indicators</c> table: the normalised indicators of every active alert's current version, which
/// indicator search and correlation look up by <see cref="Key(string, string)"/> (docs/decisions/0020). Written in the transaction
/// that publishes a version, together with a <c>correlation_pending</c> marker for the correlation worker;
/// emptied for an alert when it is revoked or expires.
/// </summary>
public static class IndicatorIndex
{
    /// <summary>
    /// Indicator types that identify or locate a natural person: searching for one is a consultation of personal data
    /// and needs a stated purpose (X-Purpose), whatever it finds.
    /// </summary>
    public static readonly IReadOnlySet<IndicatorType> PersonRelated = new HashSet<IndicatorType>
    {
        IndicatorType.Phone, IndicatorType.Email, IndicatorType.TravelDocument, IndicatorType.Iban, IndicatorType.VehiclePlate,
    };

    /// <summary>The lookup key of a normalised value: SHA-256 of <c>type:value</c>, fixed-size whatever the value's length.</summary>
    public static byte[] Key(IndicatorType type, string normalised) => Key(WireNames.Of(type), normalised);

    public static byte[] Key(string type, string normalised) => SHA256.HashData(Encoding.UTF8.GetBytes($"{type}:{normalised}"));

    /// <summary>
    /// Adds the version's indicators to <paramref name="batch"/> as one multi-row upsert (a value the alert already
    /// carried keeps its <c>seen_at</c>), removes the ones the version dropped, and queues the version for correlation when it
    /// carries any.
    /// </summary>
    public static void AddVersion(SqlBatch batch, AlertView view)
    {
        var id = batch.Parameter("Id", view.Id);
        var version = batch.Parameter("Version", view.Version);
        var at = batch.Parameter("UpdatedAt", view.UpdatedAt);
        var distinct = view.Indicators
            .Select(i => (Type: WireNames.Of(i.Type), i.Value))
            .DistinctBy(i => (i.Type, i.Value))
            .ToList();
        if (distinct.Count > 0)
        {
            var rows = new StringBuilder();
            for (var i = 0; i < distinct.Count; i++)
            {
                var (type, value) = distinct[i];
                rows.Append(i == 0 ? string.Empty : ", ")
                    .Append(System.Globalization.CultureInfo.InvariantCulture,
                        $"({id}, {batch.Parameter($"ixk{i}", Key(type, value))}, {batch.Parameter($"ixt{i}", type)}, {batch.Parameter($"ixv{i}", value)}, {version}, {at})");
            }

            batch.Add($"""
                INSERT INTO alert_indicators (alert_id, value_key, type, value, version, seen_at) VALUES {rows}
                ON CONFLICT (alert_id, value_key) DO UPDATE SET version = excluded.version
                """);
        }

        if (view.Version > 1)
        {
            batch.Add($"DELETE FROM alert_indicators WHERE alert_id = {id} AND version < {version}");
        }

        // A version without indicators matches nothing, so it is not queued. What an earlier version shared is withdrawn
        // without the worker: views read alert_indicators as it now is, and the send-time decision refuses a correlation
        // event whose two alerts no longer share a value (ADR 20). A marker an earlier version left queued is harmless:
        // the worker matches what the alert carries when it runs, which is nothing.
        if (distinct.Count > 0)
        {
            batch.Add($"""
                INSERT INTO correlation_pending (alert_id, version, queued_at) VALUES ({id}, {version}, {at})
                ON CONFLICT (alert_id) DO UPDATE SET version = excluded.version, queued_at = excluded.queued_at
                """);
        }
    }

    /// <summary>Run with a revocation or expiry: the alert leaves search and every correlation at once.</summary>
    public const string RemoveSql =
        """
        DELETE FROM alert_indicators WHERE alert_id = @id;
        DELETE FROM correlation_pending WHERE alert_id = @id;
        """;
}
