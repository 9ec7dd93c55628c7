using System.Security.Cryptography;
using Dapper;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// Per-deployment keys, created on first use and shared by every instance through the database, so that
/// a cursor issued by one replica is accepted by another.
/// </summary>
public static class ServerSecrets
{
    public static async Task<byte[]> GetOrCreateAsync(Database database, TimeProvider time, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // A transaction of its own, not an auto-commit INSERT: on SQLite that takes this process's write turn (ADR 44).
        await using (var write = await Database.BeginWriteAsync(connection, cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO server_secrets (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING",
                new { name, value = RandomNumberGenerator.GetBytes(32), now = time.GetUtcNow() },
                write.Transaction, cancellationToken: cancellationToken));
            await write.CommitAsync(cancellationToken);
        }

        return await connection.QuerySingleAsync<byte[]>(new CommandDefinition(
            "SELECT value FROM server_secrets WHERE name = @name", new { name }, cancellationToken: cancellationToken));
    }
}
