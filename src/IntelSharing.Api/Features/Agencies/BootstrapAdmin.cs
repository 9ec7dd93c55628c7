using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Hosting;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using IntelSharing.Api.Infrastructure.Time;

namespace IntelSharing.Api.Features.Agencies;

/// <summary>
/// <c>IntelSharing.Api bootstrap-admin [--name "…"] [--country RS]</c>: the first-run path. Whoever can run the
/// server's own executable against its database creates the operator agency (once) and an operator key,
/// printed once. There is no default key or password to forget to change.
/// </summary>
public static class BootstrapAdmin
{
    public const string CommandName = CommandLine.BootstrapAdmin;

    public static readonly IReadOnlyList<string> OperatorScopes = [Scopes.AgenciesAdmin, Scopes.DeliveriesManage, Scopes.AuditRead];

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var name = Option(args, "--name") ?? "IntelSharing Operations";
        var country = Option(args, "--country") ?? "RS";
        if (!Countries.IsValid(country))
        {
            await output.WriteLineAsync($"--country must be an ISO 3166-1 alpha-2 code (upper case), not '{country}'.");
            return 2;
        }

        await services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
        var database = services.GetRequiredService<Database>();
        var time = services.GetRequiredService<TimeProvider>();
        await using var connection = await database.OpenAsync(cancellationToken);

        var now = time.UtcNowMicros();
        // The agency, its key and the audit record in one write transaction: together or not at all, and on SQLite in
        // this process's write turn (ADR 44).
        await using var write = await Database.BeginWriteAsync(connection, cancellationToken);
        var transaction = write.Transaction;
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at)
            VALUES (@id, @name, @country, @kind, @active, @now, @now)
            ON CONFLICT (name) DO NOTHING
            """,
            new { id = Guid.CreateVersion7(now), name, country, kind = WireNames.Of(AgencyKind.Operator), active = true, now },
            transaction, cancellationToken: cancellationToken));
        var agencyId = await connection.QuerySingleAsync<Guid>(new CommandDefinition(
            "SELECT id FROM agencies WHERE name = @name", new { name }, transaction, cancellationToken: cancellationToken));

        var issued = await IssueApiKey.IssueAsync(connection, transaction, time, agencyId, $"bootstrap {now:yyyy-MM-dd HH:mm}Z", OperatorScopes, null, cancellationToken);
        await AuditWriter.InsertAsync(connection, transaction, new AuditRecord
        {
            Id = Guid.CreateVersion7(now),
            RecordedAt = now,
            AgencyId = agencyId,
            KeyPrefix = issued!.Prefix,
            Action = AuditActions.AgencyBootstrap,
            ResourceType = AuditResources.ApiKey,
            ResourceId = issued.Id,
            Outcome = StatusCodes.Status201Created,
            Detail = System.Text.Json.JsonSerializer.Serialize(new { via = CommandName, scopes = OperatorScopes }, JsonDefaults.Options),
        }, cancellationToken);
        await write.CommitAsync(cancellationToken);
        await output.WriteLineAsync($"Operator agency: {name} ({agencyId})");
        await output.WriteLineAsync($"Scopes: {string.Join(' ', OperatorScopes)}");
        await output.WriteLineAsync("API key (shown once, store it now):");
        await output.WriteLineAsync(issued.Key);
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
