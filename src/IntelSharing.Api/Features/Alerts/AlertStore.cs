using System.Data.Common;
using Dapper;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// Writes one published version: the current row in <c>alerts</c>, the immutable copy in
/// <c>alert_versions</c>, and the country and audience rows that reads filter on. Shared by every
/// slice that publishes a version (submit, update), inside the caller's transaction.
/// </summary>
public static class AlertStore
{
    public static async Task InsertVersionAsync(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, AlertView view, string document, bool isNew, CancellationToken cancellationToken)
    {
        var row = new
        {
            view.Id,
            OriginatorId = view.Originator.Id,
            Category = WireNames.Of(view.Category),
            Severity = WireNames.Of(view.Severity),
            SeverityRank = (int)view.Severity,
            Tlp = WireNames.Of(view.Tlp),
            HandlingCode = WireNames.Of(view.Handling.Code!.Value),
            HasAudience = view.Audience.Count > 0,
            view.Version,
            Status = WireNames.Of(view.Status),
            view.CreatedAt,
            view.UpdatedAt,
            view.ReviewAt,
            view.ExpiresAt,
            Document = document,
        };

        var upsert = isNew
            ? $"""
              INSERT INTO alerts (id, originator_id, category, severity, severity_rank, tlp, handling_code, has_audience,
                                  version, status, created_at, updated_at, review_at, expires_at, document)
              VALUES (@Id, @OriginatorId, @Category, @Severity, @SeverityRank, @Tlp, @HandlingCode, @HasAudience,
                      @Version, @Status, @CreatedAt, @UpdatedAt, @ReviewAt, @ExpiresAt, {dialect.Json("@Document")});
              """
            : $"""
              UPDATE alerts SET category = @Category, severity = @Severity, severity_rank = @SeverityRank, tlp = @Tlp,
                     handling_code = @HandlingCode, has_audience = @HasAudience, version = @Version, status = @Status,
                     updated_at = @UpdatedAt, review_at = @ReviewAt, expires_at = @ExpiresAt, document = {dialect.Json("@Document")}
              WHERE id = @Id;
              DELETE FROM alert_countries WHERE alert_id = @Id;
              DELETE FROM alert_audience WHERE alert_id = @Id;
              """;

        await connection.ExecuteAsync(new CommandDefinition(
            upsert + $"""

            INSERT INTO alert_versions (alert_id, version, created_at, document)
            VALUES (@Id, @Version, @UpdatedAt, {dialect.Json("@Document")});
            """,
            row, transaction, cancellationToken: cancellationToken));

        await InsertRowsAsync(connection, transaction, "alert_countries (alert_id, country)", view.Id, view.Countries, cancellationToken);
        await InsertRowsAsync(connection, transaction, "alert_audience (alert_id, agency_id)", view.Id, view.Audience.Select(a => (object)a.Id).ToList(), cancellationToken);
    }

    /// <summary>One multi-row INSERT instead of a round trip per row.</summary>
    private static async Task InsertRowsAsync<T>(DbConnection connection, DbTransaction transaction, string table, Guid alertId, IReadOnlyList<T> values, CancellationToken cancellationToken)
    {
        if (values.Count == 0)
        {
            return;
        }

        var parameters = new DynamicParameters();
        parameters.Add("alertId", alertId);
        var rows = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            parameters.Add($"v{i}", values[i]);
            rows[i] = $"(@alertId, @v{i})";
        }

        await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO {table} VALUES {string.Join(", ", rows)}", parameters, transaction, cancellationToken: cancellationToken));
    }
}
